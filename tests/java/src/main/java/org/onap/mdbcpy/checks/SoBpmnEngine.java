package org.onap.mdbcpy.checks;

import com.zaxxer.hikari.HikariDataSource;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.camunda.bpm.engine.ProcessEngine;

/**
 * One site's BPMN infrastructure in {@code mdbc demo --engine camunda}: a Camunda 7 engine
 * (see {@link CamundaEngines}) with its job executor on, whose JDBC URL names its own site's
 * {@code mdbc proxy}. Every engine shares the one Camunda database, as SO's BPMN containers
 * do: a job any of them saved can be run by any other.
 *
 * <p>Driven by the demo through standard input, one command a line:
 *
 * <ul>
 *   <li>{@code deploy KEY STEP...}: deploy a flow of those steps, each behind an {@code
 *       asyncBefore} save point (see {@link CamundaEngines#chain});
 *   <li>{@code start KEY INTERVAL_MS PREFIX}: start instances of KEY, business keys {@code
 *       PREFIX-1}, {@code PREFIX-2}, ..., one every INTERVAL_MS, as SO's API handler does for
 *       each request; a start that fails is retried (after checking whether it committed after
 *       all), as SO's API handler retries a request;
 *   <li>{@code stop}: stop starting instances (the job executor keeps running);
 *   <li>{@code quit}, or the end of input: close the engine and exit 0.
 * </ul>
 *
 * <p>It reports on standard output, one event a line: {@code engine ok}, {@code deployed KEY},
 * {@code started BUSINESS_KEY} (the start committed and returned: the request is acknowledged),
 * {@code retry BUSINESS_KEY EXCEPTION}, {@code step BUSINESS_KEY STEP} (a step's transaction
 * committed), {@code stopped N} and {@code bye}. Details of errors go to standard error.
 *
 * <p>Usage: {@code SoBpmnEngine ENGINE_NAME JDBC_URL LOCK_MILLIS WORK_MILLIS} with the account
 * in the environment ({@code MDBC_JDBC_USER}, {@code MDBC_JDBC_PASSWORD}).
 */
public final class SoBpmnEngine {
  static final long RETRY_PAUSE_MILLIS = 500;

  private final ProcessEngine engine;
  private volatile boolean starting;
  private Thread starter;

  private SoBpmnEngine(ProcessEngine engine) {
    this.engine = engine;
  }

  static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    String name = args[0];
    String url = args[1];
    long lockMillis = Long.parseLong(args[2]);
    Mark.workMillis = Long.parseLong(args[3]);
    Mark.onCommit = done -> say("step " + done);
    try (HikariDataSource ds = CamundaEngines.dataSource(url, name, 10)) {
      CamundaEngines.createMarks(ds);
      ProcessEngine engine = CamundaEngines.engine(ds, name, 3, lockMillis);
      say("engine ok");
      try {
        new SoBpmnEngine(engine).serve();
      } finally {
        engine.close();
      }
    }
    say("bye");
    System.exit(0);
  }

  private void serve() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.trim().split("\\s+");
      switch (words[0]) {
        case "deploy" -> deploy(words);
        case "start" -> start(words[1], Long.parseLong(words[2]), words[3]);
        case "stop" -> stop();
        case "quit" -> {
          stop();
          return;
        }
        default -> System.err.println("unknown command: " + line);
      }
    }
    stop();
  }

  private void deploy(String[] words) {
    String key = words[1];
    String[] steps = Arrays.copyOfRange(words, 2, words.length);
    engine
        .getRepositoryService()
        .createDeployment()
        .name(key)
        .enableDuplicateFiltering(false)
        .addModelInstance(key + ".bpmn", CamundaEngines.chain(key, steps))
        .deploy();
    say("deployed " + key);
  }

  private void start(String key, long intervalMillis, String prefix)
      throws InterruptedException {
    stop();
    starting = true;
    starter =
        new Thread(
            () -> {
              long next = System.nanoTime();
              int n = 0;
              while (starting) {
                n++;
                String businessKey = prefix + "-" + n;
                if (startOne(key, businessKey)) {
                  say("started " + businessKey);
                }
                next += TimeUnit.MILLISECONDS.toNanos(intervalMillis);
                long wait = next - System.nanoTime();
                if (wait > 0) {
                  sleep(TimeUnit.NANOSECONDS.toMillis(wait));
                } else {
                  next = System.nanoTime(); // behind after a failover: no burst to catch up
                }
              }
              say("stopped " + n);
            },
            "starter");
    starter.start();
  }

  /** True once an instance with this business key committed (this attempt or an earlier one). */
  private boolean startOne(String key, String businessKey) {
    boolean tried = false;
    while (starting) {
      try {
        if (tried && exists(businessKey)) {
          return true; // the earlier attempt committed though its answer was lost
        }
        tried = true;
        engine.getRuntimeService().startProcessInstanceByKey(key, businessKey);
        return true;
      } catch (RuntimeException e) {
        say("retry " + businessKey + " " + e.getClass().getSimpleName());
        System.err.println("start of " + businessKey + " failed: " + e);
        sleep(RETRY_PAUSE_MILLIS);
      }
    }
    return false;
  }

  private boolean exists(String businessKey) {
    return engine
            .getHistoryService()
            .createHistoricProcessInstanceQuery()
            .processInstanceBusinessKey(businessKey)
            .count()
        > 0;
  }

  private void stop() throws InterruptedException {
    starting = false;
    if (starter != null) {
      starter.join();
      starter = null;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
