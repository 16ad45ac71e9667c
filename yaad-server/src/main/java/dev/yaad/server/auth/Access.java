package dev.yaad.server.auth;

import io.javalin.Javalin;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.Header;
import io.javalin.http.UnauthorizedResponse;
import io.javalin.security.RouteRole;
import java.util.Locale;
import java.util.Set;

/**
 * The one place where requests are let in or turned away. Installed as a Javalin
 * {@code beforeMatched} handler, it runs for every matched route, with that route's own path
 * parameters, before the route's handler:
 *
 * <ul>
 *   <li>a route with the role {@link Role#PUBLIC} is open to everyone (the page, health,
 *       readiness, the client configuration);
 *   <li>a route with a {@code {userId}} path parameter is for an API key, or a session token
 *       of that very user: any other user's token gets {@code 403 forbidden}, before anything
 *       is read, so the answer does not depend on whether the other user exists;
 *   <li>every other route (and any route marked {@link Role#ADMIN}) needs an API key.
 * </ul>
 *
 * A missing (when required) or invalid credential is {@code 401 unauthorized}. So a route added
 * later is closed by default, not open by default.
 */
public final class Access {
  /** The {@link Principal} of the request, set on the {@link Context} once established. */
  public static final String PRINCIPAL = "yaad.principal";
  private static final String BEARER = "bearer ";

  /** Route roles this server understands; a route without one follows the rules above. */
  public enum Role implements RouteRole {
    /** No credential needed. */
    PUBLIC,
    /** An API key needed, even if the route has a {@code {userId}}. */
    ADMIN
  }

  private final Authenticator authenticator;

  private Access(Authenticator authenticator) {
    this.authenticator = authenticator;
  }

  /** Checks every matched route of {@code app}; call before the app starts. */
  public static void install(Javalin app, Authenticator authenticator) {
    Access access = new Access(authenticator);
    app.beforeMatched(access::check);
  }

  /** The principal that {@link #install}'s check established for this request. */
  public static Principal principal(Context ctx) {
    Principal principal = ctx.attribute(PRINCIPAL);
    if (principal == null) {
      throw new IllegalStateException("no principal on " + ctx.method() + " " + ctx.path() + ": is Access installed, and is the route PUBLIC?");
    }
    return principal;
  }

  private void check(Context ctx) {
    Set<RouteRole> roles = ctx.routeRoles();
    if (roles.contains(Role.PUBLIC)) {
      return;
    }
    Principal principal = authenticate(ctx, authenticator, bearer(ctx));
    ctx.attribute(PRINCIPAL, principal);
    String userId = ctx.pathParamMap().get("userId");
    if (userId != null && !roles.contains(Role.ADMIN)) {
      if (!principal.mayActOn(userId)) {
        throw new ForbiddenResponse("this session token is for another user; it reaches only /api/v1/users/<its own user id>/...");
      }
    } else if (!principal.isAdmin()) {
      throw new ForbiddenResponse("this endpoint needs an API key; a session token reaches only its own user's data");
    }
  }

  /**
   * The user a WebSocket session is for, decided at the upgrade request (call it from
   * {@code app.wsBeforeUpgrade}). The credential comes from {@code Authorization: Bearer}
   * or, for browsers (which cannot set headers on a WebSocket), the {@code token} query
   * parameter. A session token decides the user; {@code ?userId=}, if also given, must match
   * it. An API key, or no credential on an open server, needs {@code ?userId=}.
   *
   * @throws UnauthorizedResponse for a missing (when required) or invalid credential
   * @throws ForbiddenResponse    if {@code ?userId=} names another user than the token
   * @throws BadRequestResponse   if no user can be determined
   */
  public static String sessionUser(Context ctx, Authenticator authenticator) {
    String credential = bearer(ctx);
    if (credential == null) {
      String query = ctx.queryParam("token");
      credential = query == null || query.isBlank() ? null : query.strip();
    }
    Principal principal = authenticate(ctx, authenticator, credential);
    ctx.attribute(PRINCIPAL, principal);
    String asked = ctx.queryParam("userId");
    asked = asked == null || asked.isBlank() ? null : asked.strip();
    if (principal instanceof Principal.User user) {
      if (asked != null && !asked.equals(user.userId())) {
        throw new ForbiddenResponse("this session token is for another user than ?userId=");
      }
      return user.userId();
    }
    if (asked == null) {
      throw new BadRequestResponse("say which user the session is for: ?userId=<id> (or connect with that user's session token)");
    }
    return asked;
  }

  private static Principal authenticate(Context ctx, Authenticator authenticator, String credential) {
    try {
      return authenticator.authenticate(credential);
    } catch (InvalidCredentialsException e) {
      ctx.header(Header.WWW_AUTHENTICATE, "Bearer realm=\"yaad\"");
      throw new UnauthorizedResponse(e.getMessage());
    }
  }

  /** The credential of {@code Authorization: Bearer <credential>}, or null if there is no such header. */
  private static String bearer(Context ctx) {
    String header = ctx.header(Header.AUTHORIZATION);
    if (header == null || header.isBlank()) {
      return null;
    }
    if (!header.toLowerCase(Locale.ROOT).startsWith(BEARER)) {
      ctx.header(Header.WWW_AUTHENTICATE, "Bearer realm=\"yaad\"");
      throw new UnauthorizedResponse("use 'Authorization: Bearer <API key or session token>'; other schemes are not supported");
    }
    String credential = header.substring(BEARER.length()).strip();
    return credential.isEmpty() ? null : credential;
  }
}
