package org.onap.mdbcpy.checks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.camunda.bpm.engine.ProcessEngine;
import org.camunda.bpm.engine.impl.cfg.StandaloneProcessEngineConfiguration;
import org.camunda.bpm.engine.impl.jobexecutor.DefaultJobExecutor;
import org.camunda.bpm.model.bpmn.Bpmn;
import org.camunda.bpm.model.bpmn.BpmnModelInstance;
import org.camunda.bpm.model.bpmn.builder.AbstractFlowNodeBuilder;

/**
 * A Camunda 7 engine set up as ONAP SO's BPMN infrastructure runs it, shared by the kill check
 * and the demo's engine: Connector/J through a HikariCP pool at READ COMMITTED, {@code
 * databaseType=mysql}, {@code databaseSchemaUpdate=true}, full history and the job executor on.
 *
 * <p>The JDBC URL is the only thing that names mdbc: the proxy's host and port instead of
 * MariaDB's. The account comes from the environment ({@code MDBC_JDBC_USER}, {@code
 * MDBC_JDBC_PASSWORD}), never from the command line.
 */
final class CamundaEngines {
  /** A failed job is tried again every second, 30 times: long enough to outlast a failover. */
  static final String RETRY_CYCLE = "R30/PT1S";

  private CamundaEngines() {}

  /** The pool the engine uses; a session cut by a failover is evicted and opened again. */
  static HikariDataSource dataSource(String url, String poolName, int size) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(System.getenv("MDBC_JDBC_USER"));
    hc.setPassword(System.getenv("MDBC_JDBC_PASSWORD"));
    hc.setMaximumPoolSize(size);
    hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    hc.setConnectionTimeout(30_000);
    hc.setPoolName(poolName);
    return new HikariDataSource(hc);
  }

  /**
   * The table {@link Mark} writes: one row per process instance and step that committed. Not
   * named {@code mdbc_*}: that prefix is mdbc's own and is not replicated.
   */
  static void createMarks(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS so_marks (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
              + " business_key VARCHAR(64) NOT NULL, step VARCHAR(64) NOT NULL,"
              + " instance_id VARCHAR(64) NOT NULL, engine VARCHAR(64) NOT NULL,"
              + " at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))");
    }
  }

  /**
   * A standalone engine named {@code name} on {@code ds}. {@code lockMillis} is how long a job
   * stays locked by its executor: a job whose executor died (with its site) is acquired by
   * another engine once that lock expires.
   */
  static ProcessEngine engine(DataSource ds, String name, int jobThreads, long lockMillis) {
    StandaloneProcessEngineConfiguration cfg = new StandaloneProcessEngineConfiguration();
    cfg.setProcessEngineName(name);
    cfg.setDataSource(ds);
    cfg.setDatabaseType("mysql");
    cfg.setDatabaseSchemaUpdate("true");
    cfg.setHistory("full");
    cfg.setMetricsEnabled(false);
    cfg.setDbMetricsReporterActivate(false);
    DefaultJobExecutor jobs = new DefaultJobExecutor();
    jobs.setCorePoolSize(jobThreads);
    jobs.setMaxPoolSize(jobThreads);
    jobs.setMaxJobsPerAcquisition(jobThreads);
    jobs.setWaitTimeInMillis(100);
    jobs.setMaxWait(1000);
    jobs.setLockTimeInMillis((int) lockMillis);
    jobs.setLockOwner(name); // ACT_RU_JOB.LOCK_OWNER_ then says which engine holds a job
    cfg.setJobExecutor(jobs);
    cfg.setJobExecutorActivate(true);
    return cfg.buildProcessEngine();
  }

  /**
   * A process {@code key} that runs {@code steps} in a row, each a service task with {@code
   * asyncBefore}: a save point (a job in the database) before every step, so an instance whose
   * executor is lost resumes at its last save point. Every step is a {@link Mark}.
   */
  static BpmnModelInstance chain(String key, String... steps) {
    AbstractFlowNodeBuilder<?, ?> flow =
        Bpmn.createExecutableProcess(key).camundaHistoryTimeToLive(1).startEvent();
    for (String step : steps) {
      flow =
          flow.serviceTask(step)
              .camundaAsyncBefore()
              .camundaFailedJobRetryTimeCycle(RETRY_CYCLE)
              .camundaClass(Mark.class.getName());
    }
    return flow.endEvent().done();
  }
}
