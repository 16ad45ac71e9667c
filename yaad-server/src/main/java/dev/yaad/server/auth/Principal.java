package dev.yaad.server.auth;

/**
 * Who a request acts for, as established by {@link Authenticator}. An API key and the open
 * server on loopback may act on any user; a session token only on its own.
 */
public sealed interface Principal {

  /** True if this principal may read or change the data of {@code userId}. */
  boolean mayActOn(String userId);

  /** True if this principal may use admin endpoints (issue tokens, read metrics). */
  boolean isAdmin();

  /**
   * A caller holding one of the configured API keys.
   *
   * @param id names the key without revealing it: {@code sha256:} and the first 8 hex digits of its hash
   */
  record ApiKey(String id) implements Principal {
    @Override
    public boolean mayActOn(String userId) {
      return true;
    }

    @Override
    public boolean isAdmin() {
      return true;
    }
  }

  /** A caller holding a valid session token for {@code userId}. */
  record User(String userId) implements Principal {
    @Override
    public boolean mayActOn(String other) {
      return userId.equals(other);
    }

    @Override
    public boolean isAdmin() {
      return false;
    }
  }

  /** A caller without credentials on a server that runs without authentication (loopback only). */
  record Open() implements Principal {
    @Override
    public boolean mayActOn(String userId) {
      return true;
    }

    @Override
    public boolean isAdmin() {
      return true;
    }
  }
}
