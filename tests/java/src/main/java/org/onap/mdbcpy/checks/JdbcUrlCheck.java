package org.onap.mdbcpy.checks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One login and one write through a JDBC URL, as given: for URL options such as TLS
 * ({@code sslMode=verify-full&serverSslCert=...}) toward {@code mdbc proxy}.
 *
 * <p>Prints {@code ok} after creating and filling the table, or {@code refused STATE CODE
 * MESSAGE} when the driver refuses or fails the login (tests/proxy/test_tls.py asserts on the
 * line). Usage: {@code JdbcUrlCheck URL TABLE} with the account in the environment ({@code
 * MDBC_JDBC_USER}, {@code MDBC_JDBC_PASSWORD}), never on the command line.
 */
public final class JdbcUrlCheck {
  private JdbcUrlCheck() {}

  public static void main(String[] args) {
    String url = args[0];
    String table = args[1];
    String user = System.getenv("MDBC_JDBC_USER");
    String password = System.getenv("MDBC_JDBC_PASSWORD");
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
      c.setAutoCommit(false);
      s.execute("INSERT INTO " + table + " VALUES (1)");
      c.commit();
      try (ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
        r.next();
        System.out.println(r.getInt(1) == 1 ? "ok" : "wrong count " + r.getInt(1));
      }
    } catch (SQLException e) {
      System.out.println(
          "refused " + e.getSQLState() + " " + e.getErrorCode() + " " + e.getMessage());
    }
  }
}
