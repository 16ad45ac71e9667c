package dev.yaad.server.http;

import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * Times every HTTP request as {@code http.server.requests} (Prometheus:
 * {@code http_server_requests_seconds_*}) tagged with the method, the route template
 * ({@code /api/v1/users/{userId}/memories}, never the concrete path, so user ids do not
 * become label values), the status and its class.
 */
final class HttpMetrics {
  private final MeterRegistry registry;

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Javalin's request-logger hook: runs after every request, including failed and unmatched ones. */
  void record(Context ctx, Float millis) {
    int status = ctx.statusCode();
    Timer.builder("http.server.requests")
        .description("HTTP requests, by route template")
        .tag("method", ctx.method().name())
        .tag("uri", route(ctx, status))
        .tag("status", Integer.toString(status))
        .tag("outcome", outcome(status))
        .register(registry)
        .record((long) (millis * 1_000_000L), TimeUnit.NANOSECONDS);
  }

  private static String route(Context ctx, int status) {
    String path;
    try {
      path = ctx.endpointHandlerPath();
    } catch (RuntimeException e) {
      path = null;
    }
    if (path != null && !path.isEmpty() && !path.equals("*")) {
      return path;
    }
    // Unmatched: a static file of the page, or nothing. Either way the path is not a label.
    return status == 404 ? "NOT_FOUND" : "static";
  }

  private static String outcome(int status) {
    if (status < 200) {
      return "INFORMATIONAL";
    } else if (status < 300) {
      return "SUCCESS";
    } else if (status < 400) {
      return "REDIRECTION";
    } else if (status < 500) {
      return "CLIENT_ERROR";
    }
    return "SERVER_ERROR";
  }
}
