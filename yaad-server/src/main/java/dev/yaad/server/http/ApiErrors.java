package dev.yaad.server.http;

import dev.yaad.memory.ConflictException;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.TooLargeException;
import dev.yaad.memory.embed.EmbeddingException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the one error shape of the API, {@code {"error": code,
 * "message": text}}, with a short stable code a client can switch on. Only messages written
 * for callers reach them: an unexpected failure is logged with its stack trace and answered
 * with a generic 500.
 */
final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
  /** Seconds a client should wait before retrying a 503: about one connection-pool timeout. */
  static final String RETRY_AFTER_SECONDS = "5";

  record ErrorBody(String error, String message) {}

  private ApiErrors() {}

  static void register(Javalin app) {
    // Javalin picks the handler of the closest superclass, so TooLarge wins over InvalidInput.
    app.exception(TooLargeException.class, (e, ctx) -> send(ctx, 413, "too_large", e.getMessage()));
    app.exception(InvalidInputException.class, (e, ctx) -> send(ctx, 400, "invalid_input", e.getMessage()));
    app.exception(NotFoundException.class, (e, ctx) -> send(ctx, 404, "not_found", e.getMessage()));
    app.exception(ConflictException.class, (e, ctx) -> send(ctx, 409, "conflict", e.getMessage()));
    app.exception(StoreUnavailableException.class, (e, ctx) -> {
      // The store's message names the database and its error: for the operator, not the caller.
      log.warn("http: {} {} answered 503: {}", ctx.method(), ctx.path(), e.getMessage());
      ctx.header("Retry-After", RETRY_AFTER_SECONDS);
      send(ctx, 503, "unavailable", "the memory store is unavailable; nothing was changed, retry in a few seconds");
    });
    app.exception(EmbeddingException.class, (e, ctx) -> {
      if (!e.isRetriable()) {
        log.error("http: {} {} failed: embedding refused: {}", ctx.method(), ctx.path(), e.getMessage(), e);
        send(ctx, 500, "internal", "internal server error; the server log has the details");
        return;
      }
      log.warn("http: {} {} answered 503: {}", ctx.method(), ctx.path(), e.getMessage());
      ctx.header("Retry-After", RETRY_AFTER_SECONDS);
      send(ctx, 503, "unavailable", "the embedding model is unavailable; nothing was changed, retry in a few seconds");
    });
    app.exception(HttpResponseException.class, ApiErrors::httpError);
    app.exception(Exception.class, (e, ctx) -> {
      log.error("http: {} {} failed unexpectedly", ctx.method(), ctx.path(), e);
      send(ctx, 500, "internal", "internal server error; the server log has the details");
    });
  }

  /** Failures Javalin raises itself (no such route, wrong method) and the body checks in {@link JsonBody}. */
  private static void httpError(HttpResponseException e, Context ctx) {
    int status = e.getStatus();
    String message = switch (status) {
      case 404 -> "no such endpoint: " + ctx.method() + " " + ctx.path();
      case 405 -> {
        String allowed = e.getDetails().getOrDefault("availableMethods", "");
        if (!allowed.isEmpty()) {
          ctx.header("Allow", allowed);
        }
        yield ctx.method() + " is not allowed on " + ctx.path() + (allowed.isEmpty() ? "" : "; allowed: " + allowed);
      }
      default -> e.getMessage();
    };
    send(ctx, status, code(status), message);
  }

  static String code(int status) {
    return switch (status) {
      case 400 -> "invalid_input";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 409 -> "conflict";
      case 413, 431 -> "too_large";
      case 415 -> "unsupported_media_type";
      case 429 -> "rate_limited";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : HttpStatus.forStatus(status).name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  private static void send(Context ctx, int status, String error, String message) {
    ctx.status(status).json(new ErrorBody(error, message));
  }
}
