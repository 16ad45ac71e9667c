package dev.yaad.server.auth;

import dev.yaad.memory.Limits;
import io.javalin.Javalin;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.Header;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UnauthorizedResponse;
import io.javalin.security.RouteRole;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

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
 * A missing (when required) or invalid credential is {@code 401 unauthorized}; a client address
 * that presented too many invalid credentials lately is {@code 429 rate_limited} whatever it
 * presents ({@link AuthConfig#failedAttempts()}). So a route added later is closed by default,
 * not open by default.
 *
 * <p>Two checks protect a browser's user from other web pages:
 *
 * <ul>
 *   <li>an <b>open server</b> (no authentication, loopback only) answers only requests whose
 *       {@code Host} is a loopback name or address ({@code localhost}, {@code *.localhost},
 *       {@code 127.0.0.0/8}, {@code [::1]}, any port), on every route, the page included: a page
 *       of another site that reached it under a name of its own (DNS rebinding) gets
 *       {@code 403}. With authentication on, {@code Host} is not checked: a foreign page holds
 *       no credential.
 *   <li>a <b>WebSocket upgrade</b> that carries an {@code Origin} (every browser's does) must
 *       come from the server's own page (the same host and port as {@code Host}) or an origin
 *       listed in {@link AuthConfig#allowedOrigins()}, with authentication on or off; any other
 *       page gets {@code 403}. Clients that are not browsers send no {@code Origin} and are not
 *       affected. REST requests need no such check: every one that changes something carries
 *       JSON (a cross-site form cannot send it), and a foreign page cannot read the answers
 *       (the server allows no cross-origin reads).
 * </ul>
 */
public final class Access {
  /**
   * A well-formed user id: 1 to 128 characters of {@code A-Z a-z 0-9 . _ : @ + -}, starting with
   * a letter or digit; the store's rule, checked at the edge where an id does not reach it first.
   */
  public static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0," + (Limits.MAX_USER_ID_LENGTH - 1) + "}");

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

  /**
   * Checks every matched route of {@code app}, and on an open server the {@code Host} of every
   * request; call before the app starts.
   */
  public static void install(Javalin app, Authenticator authenticator) {
    Access access = new Access(authenticator);
    if (!authenticator.config().required()) {
      app.before(ctx -> requireLoopbackHost(ctx));
    }
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
   * {@code app.wsBeforeUpgrade}), after the {@code Host} and {@code Origin} checks of the class
   * comment. The credential comes from {@code Authorization: Bearer} or, for browsers (which
   * cannot set headers on a WebSocket), the {@code token} query parameter, which takes a
   * session token only: an API key in a URL would end up in browser histories and access logs,
   * so there it is refused unchecked. A session token decides the user; {@code ?userId=}, if
   * also given, must match it. An API key, or no credential on an open server, needs
   * {@code ?userId=}, which must be a well-formed user id ({@link #USER_ID}).
   *
   * @throws UnauthorizedResponse for a missing (when required) or invalid credential, or an API key in the URL
   * @throws ForbiddenResponse    for another origin's page, a foreign {@code Host} on an open
   *                              server, or a {@code ?userId=} of another user than the token's
   * @throws BadRequestResponse   if no user can be determined, or {@code ?userId=} is malformed
   */
  public static String sessionUser(Context ctx, Authenticator authenticator) {
    if (!authenticator.config().required()) {
      requireLoopbackHost(ctx);
    }
    String origin = ctx.header(Header.ORIGIN);
    if (origin != null && !Origins.isAllowedOrigin(origin, ctx.host(), authenticator.config().allowedOrigins())) {
      throw new ForbiddenResponse("a session may be opened only by this server's own page or an allowed origin; '" + origin
          + "' is neither (the operator can allow it with --allowed-origins / YAAD_ALLOWED_ORIGINS)");
    }
    String credential = bearer(ctx);
    if (credential == null) {
      String query = ctx.queryParam("token");
      credential = query == null || query.isBlank() ? null : query.strip();
      if (credential != null && !SessionTokens.looksLikeToken(credential)) {
        ctx.header(Header.WWW_AUTHENTICATE, "Bearer realm=\"yaad\"");
        throw new UnauthorizedResponse("?token= takes a session token only; send an API key in the Authorization header,"
            + " never in a URL");
      }
    }
    Principal principal = authenticate(ctx, authenticator, credential);
    ctx.attribute(PRINCIPAL, principal);
    String asked = ctx.queryParam("userId");
    asked = asked == null || asked.isBlank() ? null : asked.strip();
    if (asked != null && !USER_ID.matcher(asked).matches()) {
      throw new BadRequestResponse("malformed userId: 1 to " + Limits.MAX_USER_ID_LENGTH + " characters of A-Z a-z 0-9 . _ : @ + -,"
          + " starting with a letter or digit");
    }
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
      return authenticator.authenticate(credential, ctx.ip());
    } catch (InvalidCredentialsException e) {
      ctx.header(Header.WWW_AUTHENTICATE, "Bearer realm=\"yaad\"");
      throw new UnauthorizedResponse(e.getMessage());
    } catch (TooManyFailuresException e) {
      ctx.header(Header.RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
      throw new HttpResponseException(429, e.getMessage());
    }
  }

  /** An open server answers to loopback names only: see the class comment. */
  private static void requireLoopbackHost(Context ctx) {
    String host = ctx.header(Header.HOST);
    if (!Origins.isLoopbackHost(host)) {
      throw new ForbiddenResponse("this server runs without authentication and answers only to loopback names"
          + " (localhost, 127.0.0.1, [::1]), not to '" + host + "'; to serve other names, turn authentication on"
          + " (--api-keys, --token-secret)");
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
