package dev.yaad.agent.learning;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A data source that stops giving out connections on {@link #crash()}: the learner using it
 * can no longer write anything, as if its process had died, while the database and its rows
 * (leases included) stay as they were for another learner to find. And one that loses the
 * answer to a commit ({@link #loseTheNextCommitsAnswer()}): the transaction commits, and the
 * caller sees the connection fail, as when the database restarts at that moment.
 */
final class CrashingDataSource implements DataSource {
  private final DataSource database;
  private volatile boolean crashed;
  private final AtomicBoolean loseCommitAnswer = new AtomicBoolean();

  CrashingDataSource(DataSource database) {
    this.database = database;
  }

  void crash() {
    crashed = true;
  }

  void loseTheNextCommitsAnswer() {
    loseCommitAnswer.set(true);
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (crashed) {
      throw new SQLException("the process using this data source has crashed (test)", "08006");
    }
    Connection connection = database.getConnection();
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(connection, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("commit") && loseCommitAnswer.compareAndSet(true, false)) {
            throw new SQLException("the connection was lost after the commit (test)", "08006");
          }
          return result;
        });
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return getConnection();
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return false;
  }
}
