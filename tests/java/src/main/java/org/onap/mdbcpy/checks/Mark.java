package org.onap.mdbcpy.checks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.function.Consumer;
import org.camunda.bpm.engine.delegate.DelegateExecution;
import org.camunda.bpm.engine.delegate.JavaDelegate;
import org.camunda.bpm.engine.impl.cfg.TransactionState;
import org.camunda.bpm.engine.impl.context.Context;

/**
 * The work of one service task: a row in {@code so_marks}, written on the engine's own
 * connection, so in the same transaction as the engine's state change. One row per instance
 * and step afterwards means the step ran and committed exactly once; a second row would be a
 * step that ran twice. The row names the engine that ran the step.
 *
 * <p>{@link #workMillis} stands for the time a building block spends calling other systems
 * before its save point (0 in the kill check). {@link #onCommit}, when set, hears {@code
 * "BUSINESS_KEY STEP"} once the step's transaction has committed.
 */
public final class Mark implements JavaDelegate {
  static volatile long workMillis;
  static volatile Consumer<String> onCommit;

  @Override
  public void execute(DelegateExecution execution) throws Exception {
    if (workMillis > 0) {
      Thread.sleep(workMillis);
    }
    String key = execution.getProcessBusinessKey();
    String step = execution.getCurrentActivityId();
    Connection c =
        Context.getCommandContext().getDbSqlSession().getSqlSession().getConnection();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO so_marks (business_key, step, instance_id, engine)"
                + " VALUES (?, ?, ?, ?)")) {
      ps.setString(1, key);
      ps.setString(2, step);
      ps.setString(3, execution.getProcessInstanceId());
      ps.setString(4, execution.getProcessEngine().getName());
      ps.executeUpdate();
    }
    Consumer<String> hook = onCommit;
    if (hook != null) {
      Context.getCommandContext()
          .getTransactionContext()
          .addTransactionListener(
              TransactionState.COMMITTED, ctx -> hook.accept(key + " " + step));
    }
  }
}
