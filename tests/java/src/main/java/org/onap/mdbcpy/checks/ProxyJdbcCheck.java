package org.onap.mdbcpy.checks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * MariaDB Connector/J through {@code mdbc proxy}: the calls an ONAP SO service makes, with a
 * JDBC URL that differs from a direct one only in host and port.
 *
 * <p>Prints one line per check; tests/proxy/test_connector_j.py asserts on those lines and on
 * what reached the MUSIC log. Any unexpected exception ends the program with its SQLState and
 * error code on stderr and exit status 1, so a failure says what the driver saw.
 *
 * <p>Usage: {@code ProxyJdbcCheck HOST:PORT OWNED_DB FOREIGN_DB TABLE} with the account in the
 * environment ({@code MDBC_JDBC_USER}, {@code MDBC_JDBC_PASSWORD}), never on the command line.
 */
public final class ProxyJdbcCheck {
  static final int BLOB_BYTES = 16 * 1024 * 1024;
  private static String user;
  private static String password;

  private ProxyJdbcCheck() {}

  public static void main(String[] args) throws Exception {
    String hostPort = args[0];
    String owned = args[1];
    String foreign = args[2];
    String table = args[3];
    user = System.getenv("MDBC_JDBC_USER");
    password = System.getenv("MDBC_JDBC_PASSWORD");
    String url = "jdbc:mariadb://" + hostPort + "/" + owned;
    try {
      run(url, "jdbc:mariadb://" + hostPort + "/" + foreign, table);
    } catch (SQLException e) {
      System.err.println(
          "unexpected SQLException state=" + e.getSQLState() + " code=" + e.getErrorCode() + ": "
              + e.getMessage());
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static Connection open(String url) throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  private static void insert(Connection c, String table, int id, String v) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + table + " (id, v) VALUES (?, ?)")) {
      ps.setInt(1, id);
      ps.setString(2, v);
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("INSERT of id " + id + " did not report one row");
      }
    }
  }

  /** Two rows in one executeBatch and one transaction (Connector/J may send them in one go). */
  private static void batch(Connection c, String table, int first, int second)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + table + " (id, v) VALUES (?, ?)")) {
      for (int id : new int[] {first, second}) {
        ps.setInt(1, id);
        ps.setString(2, "batch " + id);
        ps.addBatch();
      }
      ps.executeBatch();
    }
    c.commit();
  }

  /** 16 MiB of seeded random bytes: one more than a MySQL packet holds, and incompressible. */
  static byte[] blob(long seed) {
    byte[] data = new byte[BLOB_BYTES];
    new Random(seed).nextBytes(data);
    return data;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Write a 16 MiB BLOB in one transaction and read it back whole. */
  private static void blobRoundTrip(Connection c, String table, int id) throws SQLException {
    byte[] data = blob(id);
    c.setAutoCommit(false);
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + table + "_blob (id, b) VALUES (?, ?)")) {
      ps.setInt(1, id);
      ps.setBytes(2, data);
      ps.executeUpdate();
    }
    c.commit();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT b FROM " + table + "_blob WHERE id = ?")) {
      ps.setInt(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || !sha256(rs.getBytes(1)).equals(sha256(data))) {
          throw new IllegalStateException("BLOB " + id + " did not read back unchanged");
        }
      }
    }
    c.commit();
    System.out.println("blob " + id + " " + sha256(data));
  }

  /** 1 MiB from an InputStream: a server-side statement sends it as COM_STMT_SEND_LONG_DATA. */
  private static void streamed(Connection c, String table, int id) throws SQLException {
    byte[] data = java.util.Arrays.copyOf(blob(id), 1024 * 1024);
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + table + "_blob (id, b) VALUES (?, ?)")) {
      ps.setInt(1, id);
      ps.setBinaryStream(2, new java.io.ByteArrayInputStream(data), data.length);
      ps.executeUpdate();
    }
    c.commit();
    System.out.println("blob " + id + " " + sha256(data));
  }

  private static void run(String url, String foreignUrl, String table) throws SQLException {
    try (Connection c = open(url)) {
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY, v VARCHAR(40))");
        st.execute("CREATE TABLE " + table + "_blob (id INT PRIMARY KEY, b LONGBLOB)");
      }
      System.out.println("ddl ok");

      // Plain text queries on a Statement, autocommit on (the JDBC default).
      try (Statement st = c.createStatement()) {
        if (st.executeUpdate("INSERT INTO " + table + " (id, v) VALUES (10, 'text')") != 1) {
          throw new IllegalStateException("text INSERT did not report one row");
        }
        try (ResultSet rs = st.executeQuery("SELECT v FROM " + table + " WHERE id = 10")) {
          if (!rs.next() || !"text".equals(rs.getString(1))) {
            throw new IllegalStateException("text read back did not find id 10");
          }
        }
      }
      System.out.println("text ok");

      // Client-side prepared statements (Connector/J's default): text protocol.
      c.setAutoCommit(false);
      insert(c, table, 1, "client one");
      insert(c, table, 2, "client two");
      c.commit();
      System.out.println("commit ok");

      insert(c, table, 100, "rolled back");
      c.rollback();
      System.out.println("rollback ok");

      c.setAutoCommit(true);
      insert(c, table, 4, "autocommit");
      System.out.println("autocommit ok");

      c.setAutoCommit(false);
      batch(c, table, 8, 9);
      System.out.println("client batch ok");
      blobRoundTrip(c, table, 20);
    }

    // Server-side prepared statements: COM_STMT_PREPARE / EXECUTE, binary protocol.
    try (Connection c = open(url + "?useServerPrepStmts=true")) {
      c.setAutoCommit(false);
      insert(c, table, 3, "server three");
      c.commit();
      try (PreparedStatement ps = c.prepareStatement("SELECT v FROM " + table + " WHERE id = ?")) {
        ps.setInt(1, 3);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next() || !"server three".equals(rs.getString(1))) {
            throw new IllegalStateException("server-side read back did not find id 3");
          }
        }
      }
      c.commit();
      System.out.println("server prepared ok");
      batch(c, table, 6, 7);
      System.out.println("server batch ok");
      blobRoundTrip(c, table, 21);
      streamed(c, table, 22);
    }

    // A write at a site that does not own the range: refused like read_only.
    try (Connection c = open(foreignUrl)) {
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
        System.out.println("nonowner accepted");
      } catch (SQLException e) {
        System.out.println("nonowner " + e.getErrorCode() + " " + e.getSQLState());
      }
    }

    // A HikariCP pool of 2, as SO's services use it.
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(user);
    hc.setPassword(password);
    hc.setMaximumPoolSize(2);
    hc.setAutoCommit(false);
    hc.setConnectionTimeout(10_000);
    try (HikariDataSource ds = new HikariDataSource(hc)) {
      try (Connection c = ds.getConnection()) {
        insert(c, table, 5, "hikari");
        c.commit();
      }
      try (Connection c = ds.getConnection()) {
        insert(c, table, 101, "hikari rolled back");
        // Returned to the pool with the transaction open: HikariCP rolls it back.
      }
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
        rs.next();
        System.out.println("hikari ok rows=" + rs.getInt(1));
        c.commit();
      }
    }
  }
}
