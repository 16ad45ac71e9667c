package dev.yaad.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.yaad.memory.Memories;
import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.cluster.ClusterEvents;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import io.javalin.Javalin;
import io.javalin.http.ServiceUnavailableResponse;
import io.javalin.http.staticfiles.Location;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Assembles the server's HTTP surface: the web page (static files from the jar's {@code /web}),
 * {@code /health}, {@code /ready}, {@code /metrics}, {@code /api/v1/config},
 * {@code /api/v1/tokens}, the memory API and the {@link OperatorRoutes} (API docs, operator
 * page), all behind {@link Access}.
 *
 * <p>The WebSocket session endpoint plugs in through {@link Setup#sessions()}
 * ({@link SessionApi#install}); while it is {@code null}, {@code /api/v1/config} says
 * {@code "sessionsAvailable": false}, the page offers memory browsing only, and an upgrade to
 * {@code /api/v1/sessions} is answered {@code 503} naming {@code YAAD_LLM_BASE_URL} when no LLM
 * is configured (else {@code 404}).
 */
public final class HttpApp {
  /** Where the page lives, in the jar and on the server. */
  static final String WEB_DIRECTORY = "/web";

  /**
   * @param memories      the memory engine the API serves (shared with the agent runtime)
   * @param maxBodyBytes  the largest request body accepted
   * @param authenticator who may call
   * @param metrics       the registry {@code /metrics} scrapes; HTTP timers go there too
   * @param readiness     what {@code /ready} checks
   * @param llmConfigured whether an LLM endpoint is configured (the page says what to set if not)
   * @param sessions      adds the WebSocket session endpoint, or {@code null} while there is none
   * @param events        what this instance tells the others (a user's deletion closes their sessions everywhere)
   * @param voiceAvailable whether sessions take audio ({@code audio_start}): the server has speech engines
   * @param webrtc        the sessions' WebRTC calls ({@code /api/v1/config} says whether they are offered), or {@code null}
   */
  public record Setup(Memories memories, long maxBodyBytes, Authenticator authenticator, Metrics metrics,
      Readiness readiness, boolean llmConfigured, Consumer<Javalin> sessions, ClusterEvents events, boolean voiceAvailable,
      WebRtcSignalling webrtc) {
    public Setup {
      Objects.requireNonNull(memories, "memories");
      Objects.requireNonNull(authenticator, "authenticator");
      Objects.requireNonNull(metrics, "metrics");
      Objects.requireNonNull(readiness, "readiness");
      Objects.requireNonNull(events, "events");
    }

    /** One instance (events stay in this process), without voice. */
    public Setup(Memories memories, long maxBodyBytes, Authenticator authenticator, Metrics metrics, Readiness readiness,
        boolean llmConfigured, Consumer<Javalin> sessions) {
      this(memories, maxBodyBytes, authenticator, metrics, readiness, llmConfigured, sessions, ClusterEvents.local(), false, null);
    }
  }

  /**
   * What the page (or any client) needs to know before it can talk to the server; {@code webrtc}
   * is left out unless sessions may carry their voice over WebRTC calls.
   */
  record ClientConfig(boolean authRequired, boolean llmConfigured, boolean sessionsAvailable, boolean voiceAvailable,
      List<String> categories, @JsonInclude(JsonInclude.Include.NON_NULL) WebRtcOffer webrtc) {}

  /** WebRTC is offered: {@code iceServers} are for the page's {@code RTCPeerConnection} (STUN only). */
  record WebRtcOffer(List<Map<String, Object>> iceServers) {}

  private HttpApp() {}

  /** The app, not yet started. */
  public static Javalin create(Setup setup) {
    HttpMetrics httpMetrics = new HttpMetrics(setup.metrics().registry());
    Javalin app = MemoryApi.newApp(setup.maxBodyBytes(), config -> {
      config.staticFiles.add(files -> {
        files.hostedPath = "/";
        files.directory = WEB_DIRECTORY;
        files.location = Location.CLASSPATH;
        files.roles = Set.of(Access.Role.PUBLIC);
        // The page is tiny and changes with every release: always revalidate (ETag), never stale.
        files.headers = Map.of("Cache-Control", "no-cache");
      });
      OperatorRoutes.staticFiles(config);
      config.requestLogger.http(httpMetrics::record);
    });
    Access.install(app, setup.authenticator());

    ClientConfig clientConfig = new ClientConfig(setup.authenticator().config().required(), setup.llmConfigured(),
        setup.sessions() != null, setup.sessions() != null && setup.voiceAvailable(), setup.memories().categories().names(),
        setup.sessions() != null && setup.voiceAvailable() && setup.webrtc() != null && setup.webrtc().available()
            ? new WebRtcOffer(setup.webrtc().browserIceServers()) : null);
    app.get("/api/v1/config", ctx -> ctx.json(clientConfig), Access.Role.PUBLIC);
    app.get("/ready", ctx -> {
      Readiness.Report report = setup.readiness().check();
      ctx.status(report.ready() ? 200 : 503).json(Map.of("status", report.ready() ? "ready" : "not_ready", "checks", report.checks()));
    }, Access.Role.PUBLIC);
    // Needs an API key when auth is on (no role: admin only); Prometheus sends it as a bearer token.
    app.get("/metrics", ctx -> ctx.contentType(Metrics.CONTENT_TYPE).result(setup.metrics().scrape()));
    app.post("/api/v1/tokens", new TokenApi(setup.authenticator().tokens(), setup.maxBodyBytes())::issue);
    MemoryApi.routes(app, setup.memories(), setup.maxBodyBytes(), setup.events());
    OperatorRoutes.install(app, setup.metrics());
    if (setup.sessions() != null) {
      setup.sessions().accept(app);
    } else if (!setup.llmConfigured()) {
      // Say why there is no conversation, rather than a bare 404 (browsers see neither: the page reads /api/v1/config).
      app.wsBeforeUpgrade(SessionApi.PATH, ctx -> {
        ctx.header("Retry-After", "3600");
        throw new ServiceUnavailableResponse("no LLM is configured on this server, so there are no sessions: set "
            + "YAAD_LLM_BASE_URL (and YAAD_LLM_MODEL, YAAD_LLM_API_KEY as needed) and restart; memories still work");
      });
      app.ws(SessionApi.PATH, ws -> { });
    }
    return app;
  }
}
