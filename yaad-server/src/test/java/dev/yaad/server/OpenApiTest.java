package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.http.HttpLimits;
import dev.yaad.server.limit.Rate;
import dev.yaad.testing.ScriptedLlmServer;
import io.javalin.Javalin;
import io.javalin.router.ParsedEndpoint;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document ({@code /openapi.json}) is the API: read by a real OpenAPI parser, it
 * lists exactly the routes the server registers (walked from the running Javalin app, with an
 * LLM so the session route exists too), and real answers of a running server, successes and
 * errors, have a status the document declares and a body its schema accepts.
 */
class OpenApiTest {
  private static final String KEY = "openapi-test-admin-key-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static final int USER_RATE = 60;

  @TempDir static Path dir;
  static ScriptedLlmServer llm;
  static YaadServer server;
  static JsonNode document;
  static OpenAPI parsed;

  @BeforeAll
  static void start() throws Exception {
    llm = ScriptedLlmServer.start();
    server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withAuth(AuthConfig.of(KEY, "openapi-test-secret-0123456789-0123456789"))
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null))
        // A small per-user rate, so that a 429 is reached quickly (rateLimited_matchesTheDocument).
        .withLimits(HttpLimits.defaults().withRequestRates(Rate.of(USER_RATE, Duration.ofMinutes(1)), HttpLimits.DEFAULT_KEY_REQUESTS)))
        .start();
    Answer answer = call("GET", "/openapi.json", null, null);
    assertThat(answer.status()).isEqualTo(200);
    document = answer.json();
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(answer.body(), null, options);
    assertThat(result.getMessages()).as("the OpenAPI parser's complaints").isEmpty();
    parsed = result.getOpenAPI();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (llm != null) {
      llm.close();
    }
  }

  @Test
  void document_isOpenApi31_withOneErrorShape() {
    assertThat(parsed.getOpenapi()).startsWith("3.1");
    assertThat(parsed.getComponents().getSchemas()).containsKey("Error");
    // Every 4xx/5xx of every operation is the Error shape.
    parsed.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, op) ->
        op.getResponses().forEach((status, response) -> {
          if (status.startsWith("4") || status.startsWith("5")) {
            String ref = response.get$ref() != null ? response.get$ref() : "";
            boolean errorShape = ref.startsWith("#/components/responses/")
                || path.equals("/ready"); // /ready's 503 is a readiness report, documented as such
            assertThat(errorShape).as(method + " " + path + " " + status + " uses a shared error response").isTrue();
          }
        })));
  }

  /** A comma in an unquoted YAML flow value ({@code { description: a, b }}) makes a bogus key with no value. */
  @Test
  void document_hasNoKeyWithoutAValue() {
    List<String> empty = new ArrayList<>();
    collectNulls("$", document, empty);
    assertThat(empty).as("keys with no value in openapi.yaml (quote descriptions that contain commas)").isEmpty();
  }

  private static void collectNulls(String path, JsonNode node, List<String> out) {
    node.properties().forEach(e -> {
      if (e.getValue().isNull()) {
        out.add(path + "." + e.getKey());
      }
      collectNulls(path + "." + e.getKey(), e.getValue(), out);
    });
    for (int i = 0; node.isArray() && i < node.size(); i++) {
      collectNulls(path + "[" + i + "]", node.get(i), out);
    }
  }

  @Test
  void everyRegisteredRoute_isDocumented_andNothingElse() {
    Javalin app = server.javalin();
    TreeSet<String> registered = new TreeSet<>();
    for (ParsedEndpoint endpoint : app.unsafeConfig().pvt.internalRouter.allHttpHandlers()) {
      if (endpoint.getEndpoint().getMethod().isHttpMethod()) {
        registered.add(endpoint.getEndpoint().getMethod().name() + " " + endpoint.getEndpoint().getPath());
      }
    }
    app.unsafeConfig().pvt.internalRouter.allWsHandlers().stream()
        .map(ws -> "GET " + ws.getPath()).forEach(registered::add); // a WebSocket route: a GET with an upgrade
    TreeSet<String> documented = new TreeSet<>();
    parsed.getPaths().forEach((path, item) -> item.readOperationsMap().keySet()
        .forEach(method -> documented.add(method.name() + " " + path)));
    assertThat(registered).as("routes the server registers (left) against /openapi.json (right): add a new route to"
        + " yaad-server/src/main/resources/dev/yaad/server/http/openapi.yaml").isEqualTo(documented);
  }

  @Test
  void realAnswers_matchTheDocument() throws Exception {
    String user = "/api/v1/users/ali";
    check("GET", "/health", null, KEY, 200);
    check("GET", "/ready", null, null, 200);
    check("GET", "/api/v1/config", null, null, 200);
    check("GET", "/openapi.json", null, null, 200);
    check("GET", "/docs", null, null, 200);
    check("GET", "/ops", null, null, 200);
    check("GET", "/metrics", null, KEY, 200);
    JsonNode memory = check("POST", user + "/memories",
        "{\"category\":\"fact\",\"content\":\"Lives in Lahore\",\"metadata\":{\"source\":\"call\",\"confidence\":0.90}}", KEY, 201);
    String id = memory.get("id").asText();
    check("POST", user + "/memories:batch", "{\"memories\":[{\"category\":\"GOAL\",\"content\":\"Run a 10k\"},"
        + "{\"category\":\"PLAN\",\"content\":\"Visit Karachi\",\"occurredAt\":\"2026-12-20T10:00:00+05:00\"}]}", KEY, 201);
    check("GET", user + "/memories?limit=2", null, KEY, 200);
    check("GET", user + "/memories/" + id, null, KEY, 200);
    check("PATCH", user + "/memories/" + id, "{\"content\":\"Lives in Karachi\"}", KEY, 200);
    check("GET", user + "/profile", null, KEY, 200);
    check("PUT", user + "/profile", "{\"content\":\"Ali, 34.\",\"expectedVersion\":0}", KEY, 200);
    check("PUT", user + "/profile", "{\"content\":\"Ali, 35.\",\"expectedVersion\":0}", KEY, 409);
    check("GET", user + "/snapshot?categories=FACT,GOAL&perCategory=5", null, KEY, 200);
    check("POST", user + "/search", "{\"query\":\"where does he live\",\"k\":3}", KEY, 200);
    JsonNode token = check("POST", "/api/v1/tokens", "{\"userId\":\"ali\",\"ttlSeconds\":600}", KEY, 201);
    check("GET", "/api/v1/ops/summary", null, KEY, 200);
    // The errors are the one shape, with a status the document declares for that route.
    check("GET", user + "/memories", null, null, 401);
    check("GET", "/api/v1/users/bob/memories", null, token.get("token").asText(), 403);
    check("GET", "/api/v1/ops/summary", null, token.get("token").asText(), 403);
    check("GET", user + "/memories?limit=1000", null, KEY, 400);
    check("GET", user + "/memories/0190f3c2-7b1e-7c4a-9d2e-3f4a5b6c7d8e", null, KEY, 404);
    check("POST", user + "/memories", "{\"category\":\"FACT\",\"content\":\"" + "x".repeat(9000) + "\"}", KEY, 413);
    check("DELETE", user + "/memories/" + id, null, KEY, 204);
    check("DELETE", user, null, KEY, 204);
    check("DELETE", user, null, KEY, 404);
  }

  @Test
  void rateLimited_matchesTheDocument() throws Exception {
    String memories = "/api/v1/users/flood/memories";
    for (int i = 0; i < USER_RATE && call("GET", memories, null, KEY).status() != 429; i++) {
      // spend the user's bucket
    }
    JsonNode error = check("GET", memories, null, KEY, 429);
    assertThat(error.get("error").asText()).isEqualTo("rate_limited");
    assertThat(call("GET", "/api/v1/users/flood2/memories", null, KEY).status()).as("another user goes on").isEqualTo(404);
  }

  // --------------------------------------------------------------------------------------------

  record Answer(int status, String body, String contentType) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  static Answer call(String method, String path, String body, String credential) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (credential != null) {
      request.header("Authorization", "Bearer " + credential);
    }
    HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(response.statusCode(), response.body(), response.headers().firstValue("Content-Type").orElse(""));
  }

  /** Calls the server, checks the status, and validates the body against the document's schema for it. */
  private static JsonNode check(String method, String path, String body, String credential, int expected) throws Exception {
    Answer answer = call(method, path, body, credential);
    String what = method + " " + path + " -> " + answer.status() + " " + abbreviate(answer.body());
    assertThat(answer.status()).as(what).isEqualTo(expected);
    JsonNode operation = operation(method, path.split("\\?")[0]);
    JsonNode response = resolve(operation.path("responses").path(Integer.toString(expected)));
    assertThat(response.isMissingNode()).as(what + ": status not declared in the document").isFalse();
    if (expected == 204) {
      assertThat(answer.body()).isEmpty();
      return null;
    }
    JsonNode content = response.path("content");
    String mediaType = answer.contentType().split(";")[0].strip();
    assertThat(content.has(mediaType)).as(what + ": content type " + mediaType + " not declared: " + content.fieldNames()).isTrue();
    if (!mediaType.equals("application/json")) {
      return null;
    }
    JsonNode json = answer.json();
    List<Error> errors = schema(content.path(mediaType).path("schema")).validate(json);
    assertThat(errors).as(what + ": does not match its schema").isEmpty();
    return json;
  }

  /** The operation of the document whose path template matches {@code path}. */
  private static JsonNode operation(String method, String path) {
    List<String> matches = new ArrayList<>();
    for (Map.Entry<String, JsonNode> p : document.path("paths").properties()) {
      String regex = p.getKey().replaceAll("\\{[^}]+}", "[^/]+").replace(".", "\\.");
      if (path.matches(regex)) {
        matches.add(p.getKey());
      }
    }
    // A literal segment wins over a template (/memories:batch over /memories/{id}).
    matches.sort((a, b) -> Long.compare(a.chars().filter(c -> c == '{').count(), b.chars().filter(c -> c == '{').count()));
    assertThat(matches).as("a documented path for " + path).isNotEmpty();
    JsonNode op = document.path("paths").path(matches.getFirst()).path(method.toLowerCase(Locale.ROOT));
    assertThat(op.isMissingNode()).as(method + " " + matches.getFirst() + " is documented").isFalse();
    return op;
  }

  private static JsonNode resolve(JsonNode node) {
    while (node.has("$ref")) {
      String[] parts = node.get("$ref").asText().substring(2).split("/");
      JsonNode target = document;
      for (String part : parts) {
        target = target.path(part);
      }
      node = target;
    }
    return node;
  }

  /** A JSON Schema (2020-12, as OpenAPI 3.1 uses) of one schema of the document, with its components to resolve references. */
  private static Schema schema(JsonNode schema) {
    ObjectNode root = schema.deepCopy();
    root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    root.set("components", document.path("components"));
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
        .getSchema(SchemaLocation.of("https://yaad.dev/openapi.json"), root);
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }
}
