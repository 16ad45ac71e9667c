package dev.yaad.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.yaad.server.auth.Access;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.OpsSummary;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The routes for people who integrate or operate a server, registered in one place:
 *
 * <ul>
 *   <li>{@code GET /openapi.json}: the API's contract, OpenAPI 3.1, written by hand in
 *       {@code openapi.yaml} beside this class and served as JSON. {@code OpenApiTest} keeps it
 *       honest: every registered route must be in it (and nothing else), and real answers must
 *       match its schemas. A branch that adds a route adds it there too, or that test fails.
 *   <li>{@code GET /docs}: Swagger UI on that document, from the {@code org.webjars:swagger-ui}
 *       jar (no CDN).
 *   <li>{@code GET /ops}: the operator page (live charts with uPlot, from the
 *       {@code org.webjars.npm:uplot} jar), and {@code GET /api/v1/ops/summary}, the numbers
 *       it charts ({@link OpsSummary}). The page itself is public and holds no data; the
 *       summary needs an API key when authentication is on, like {@code /metrics}.
 * </ul>
 *
 * The web libraries are served under {@code /webjars/<name>/<version>/...}, public.
 */
final class OperatorRoutes {
  static final String OPENAPI_RESOURCE = "openapi.yaml";
  private static final String WEBJARS = "META-INF/resources/webjars";

  private OperatorRoutes() {}

  /** Serves the webjars; call from {@code Javalin.create}'s configuration. */
  static void staticFiles(JavalinConfig config) {
    config.staticFiles.add(files -> {
      files.hostedPath = "/webjars";
      files.directory = WEBJARS;
      files.location = Location.CLASSPATH;
      files.roles = Set.of(Access.Role.PUBLIC);
      // Versioned paths never change content.
      files.headers = Map.of("Cache-Control", "max-age=31536000, immutable");
    });
  }

  static void install(Javalin app, Metrics metrics) {
    String openApi = openApiJson();
    app.get("/openapi.json", ctx -> ctx.contentType("application/json").result(openApi), Access.Role.PUBLIC);
    String docs = page("docs.html").replace("{{swagger-ui}}", "/webjars/swagger-ui/" + webjarVersion("org.webjars", "swagger-ui"));
    app.get("/docs", ctx -> ctx.html(docs), Access.Role.PUBLIC);
    String ops = page("ops.html").replace("{{uplot}}", "/webjars/uplot/" + webjarVersion("org.webjars.npm", "uplot"));
    app.get("/ops", ctx -> ctx.html(ops), Access.Role.PUBLIC);
    // No role: an API key when authentication is on (Access), as for /metrics.
    app.get("/api/v1/ops/summary", ctx -> ctx.json(OpsSummary.of(metrics.registry(), ApiErrors::code)));
  }

  /** The OpenAPI document as compact JSON, read from the YAML once. */
  static String openApiJson() {
    try (InputStream in = OperatorRoutes.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the jar");
      }
      JsonNode document = new ObjectMapper(new YAMLFactory()).readTree(in);
      return JsonBody.JSON.writeValueAsString(document);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + OPENAPI_RESOURCE, e);
    }
  }

  private static String page(String name) {
    try (InputStream in = OperatorRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name, e);
    }
  }

  /** The version of a webjar on the class path, from its Maven metadata, so upgrading the jar needs no code change. */
  static String webjarVersion(String group, String artifact) {
    String path = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = OperatorRoutes.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("the " + group + ":" + artifact + " jar is not on the class path (" + path + ")");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }
}
