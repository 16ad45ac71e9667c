package dev.yaad.agent.learning;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A data source that stops giving out connections on {@link #crash()}: the learner using it
 * can no longer write anything, as if its process had died, while the database and its rows
 * (leases included) stay as they were for another learner to find.
 */
final class CrashingDataSource implements DataSource {
  private final DataSource database;
  private volatile boolean crashed;

  CrashingDataSource(DataSource database) {
    this.database = database;
  }

  void crash() {
    crashed = true;
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (crashed) {
      throw new SQLException("the process using this data source has crashed (test)", "08006");
    }
    return database.getConnection();
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
