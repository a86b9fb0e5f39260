package org.onap.mdbcpy.checks;

import com.zaxxer.hikari.HikariDataSource;
import org.camunda.bpm.engine.ProcessEngine;

/**
 * A standalone Camunda 7 process engine on MariaDB through {@code mdbc proxy}, as ONAP SO's
 * BPMN infrastructure runs it (see {@link CamundaEngines}): the engine creates its tables
 * through the proxy and runs its jobs on the job executor.
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
    int status = 0;
    try (HikariDataSource ds = CamundaEngines.dataSource(url, "camunda", 8)) {
      CamundaEngines.createMarks(ds);
      // A job whose executor lost its transaction to the kill is taken again after 10 s.
      ProcessEngine engine = CamundaEngines.engine(ds, "mdbc-check", 3, 10_000);
      System.out.println("engine ok");
      try {
        status = run(engine, instances, seconds);
      } finally {
        engine.close();
      }
    }
    System.exit(status);
  }

  static int run(ProcessEngine engine, int instances, long seconds) throws InterruptedException {
    engine
        .getRepositoryService()
        .createDeployment()
        .addModelInstance(PROCESS + ".bpmn", CamundaEngines.chain(PROCESS, "work", "finish"))
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
