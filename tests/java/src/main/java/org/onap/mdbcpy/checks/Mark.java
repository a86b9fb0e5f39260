package org.onap.mdbcpy.checks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import org.camunda.bpm.engine.delegate.DelegateExecution;
import org.camunda.bpm.engine.delegate.JavaDelegate;
import org.camunda.bpm.engine.impl.context.Context;

/**
 * The work of one service task: a row in {@code so_marks}, written on the engine's own
 * connection, so in the same transaction as the engine's state change. One row per instance
 * and step afterwards means the step ran and committed exactly once; a second row would be a
 * step that ran twice.
 */
public final class Mark implements JavaDelegate {
  @Override
  public void execute(DelegateExecution execution) throws Exception {
    Connection c =
        Context.getCommandContext().getDbSqlSession().getSqlSession().getConnection();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO so_marks (business_key, step, instance_id) VALUES (?, ?, ?)")) {
      ps.setString(1, execution.getProcessBusinessKey());
      ps.setString(2, execution.getCurrentActivityId());
      ps.setString(3, execution.getProcessInstanceId());
      ps.executeUpdate();
    }
  }
}
