package org.onap.mdbcpy.checks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.Statement;
import org.camunda.bpm.engine.ProcessEngine;
import org.camunda.bpm.engine.impl.cfg.StandaloneProcessEngineConfiguration;
import org.camunda.bpm.engine.impl.jobexecutor.DefaultJobExecutor;
import org.camunda.bpm.model.bpmn.Bpmn;
import org.camunda.bpm.model.bpmn.BpmnModelInstance;

/**
 * A standalone Camunda 7 process engine on MariaDB through {@code mdbc proxy}, as ONAP SO's
 * BPMN infrastructure runs it: Connector/J, a HikariCP pool at READ COMMITTED, {@code
 * databaseSchemaUpdate=true} (the engine creates its tables through the proxy) and the job
 * executor on.
 *
 * <p>It deploys a process of two service tasks, each {@code asyncBefore} (a save point: a job
 * in the database), starts INSTANCES instances and waits until all have completed, whatever
 * happens to the database meanwhile (the test kills the owner's MariaDB). Each task writes a
 * row in {@code so_marks} in the engine's own transaction (see {@link Mark}).
 *
 * <p>Prints {@code engine ok}, {@code deployed}, {@code started N}, then {@code done N} when all
 * N instances completed (or {@code timeout K} after SECONDS with K completed, exit status 2).
 * Errors met while polling are counted, not fatal: the database may be failing over.
 *
 * <p>Usage: {@code CamundaKillCheck JDBC_URL INSTANCES SECONDS} with the account in the
 * environment ({@code MDBC_JDBC_USER}, {@code MDBC_JDBC_PASSWORD}).
 */
public final class CamundaKillCheck {
  static final String PROCESS = "mdbcKill";

  private CamundaKillCheck() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int instances = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);

    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(System.getenv("MDBC_JDBC_USER"));
    hc.setPassword(System.getenv("MDBC_JDBC_PASSWORD"));
    hc.setMaximumPoolSize(8);
    hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    hc.setConnectionTimeout(30_000);
    hc.setPoolName("camunda");
    int status = 0;
    try (HikariDataSource ds = new HikariDataSource(hc)) {
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "CREATE TABLE IF NOT EXISTS so_marks (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                + " business_key VARCHAR(64) NOT NULL, step VARCHAR(64) NOT NULL,"
                + " instance_id VARCHAR(64) NOT NULL,"
                + " at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))");
      }
      ProcessEngine engine = engine(ds);
      System.out.println("engine ok");
      try {
        status = run(engine, instances, seconds);
      } finally {
        engine.close();
      }
    }
    System.exit(status);
  }

  static ProcessEngine engine(HikariDataSource ds) {
    StandaloneProcessEngineConfiguration cfg = new StandaloneProcessEngineConfiguration();
    cfg.setProcessEngineName("mdbc-check");
    cfg.setDataSource(ds);
    cfg.setDatabaseType("mysql");
    cfg.setDatabaseSchemaUpdate("true");
    cfg.setHistory("full");
    cfg.setMetricsEnabled(false);
    cfg.setDbMetricsReporterActivate(false);
    DefaultJobExecutor jobs = new DefaultJobExecutor();
    jobs.setCorePoolSize(3);
    jobs.setMaxPoolSize(3);
    jobs.setMaxJobsPerAcquisition(3);
    jobs.setWaitTimeInMillis(100);
    jobs.setMaxWait(1000);
    // A job whose executor lost its transaction to the kill is taken again after this long.
    jobs.setLockTimeInMillis(10_000);
    cfg.setJobExecutor(jobs);
    cfg.setJobExecutorActivate(true);
    return cfg.buildProcessEngine();
  }

  static BpmnModelInstance model() {
    return Bpmn.createExecutableProcess(PROCESS)
        .camundaHistoryTimeToLive(1)
        .startEvent()
        .serviceTask("work")
        .camundaAsyncBefore()
        .camundaFailedJobRetryTimeCycle("R30/PT1S")
        .camundaClass(Mark.class.getName())
        .serviceTask("finish")
        .camundaAsyncBefore()
        .camundaFailedJobRetryTimeCycle("R30/PT1S")
        .camundaClass(Mark.class.getName())
        .endEvent()
        .done();
  }

  static int run(ProcessEngine engine, int instances, long seconds) throws InterruptedException {
    engine
        .getRepositoryService()
        .createDeployment()
        .addModelInstance(PROCESS + ".bpmn", model())
        .deploy();
    System.out.println("deployed");
    for (int i = 0; i < instances; i++) {
      engine.getRuntimeService().startProcessInstanceByKey(PROCESS, "k-" + i);
    }
    System.out.println("started " + instances);
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    long done = -1;
    int errors = 0;
    while (System.nanoTime() < deadline) {
      try {
        done =
            engine
                .getHistoryService()
                .createHistoricProcessInstanceQuery()
                .processDefinitionKey(PROCESS)
                .completed()
                .count();
        if (done == instances) {
          System.out.println("done " + done);
          System.err.println("polling errors while failing over: " + errors);
          return 0;
        }
      } catch (RuntimeException e) {
        errors++;
      }
      Thread.sleep(250);
    }
    System.out.println("timeout " + done);
    return 2;
  }
}
