package dev.yaad.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.memory.AddResult;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.server.auth.Access;
import dev.yaad.server.cluster.ClusterEvents;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.json.JavalinJackson;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The REST API of the memory engine, JSON over HTTP under {@code /api/v1}; {@code docs/api.md}
 * documents every route. Handlers are plain methods: read the request, call {@link Memories}
 * (it embeds, caches, keeps search current, validates everything and throws typed errors),
 * write JSON. {@link ApiErrors} turns every failure into {@code {"error", "message"}} with its
 * status.
 *
 * {@snippet :
 * Javalin app = MemoryApi.app(memories, MemoryApi.DEFAULT_MAX_BODY_BYTES).start("127.0.0.1", port);
 * }
 */
public final class MemoryApi {
  /** Request bodies larger than this are refused with 413 (a batch of 1000 short memories fits). */
  public static final long DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

  private static final String USER = "/api/v1/users/{userId}";
  private static final String[] MEMORY_FIELDS = {"category", "content", "metadata", "occurredAt"};

  private final Memories memories;
  private final long maxBodyBytes;
  private final ClusterEvents events;

  private MemoryApi(Memories memories, long maxBodyBytes, ClusterEvents events) {
    this.memories = memories;
    this.maxBodyBytes = maxBodyBytes;
    this.events = events;
  }

  /**
   * A Javalin app, not yet started, serving the memory API, {@code GET /health} and JSON
   * errors for every failure (including unknown routes), with no authentication: for tests
   * of the API alone. The server itself is assembled by {@link HttpApp}.
   *
   * @param maxBodyBytes the largest request body accepted, at least 1
   */
  public static Javalin app(Memories memories, long maxBodyBytes) {
    Javalin app = newApp(maxBodyBytes, config -> { });
    routes(app, memories, maxBodyBytes, ClusterEvents.local());
    return app;
  }

  /**
   * A Javalin app with the API's JSON handling and error mapping but no routes yet;
   * {@code more} adds configuration that only {@code Javalin.create} can take.
   */
  static Javalin newApp(long maxBodyBytes, Consumer<JavalinConfig> more) {
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("maxBodyBytes cannot be less than 1 (was " + maxBodyBytes + ")");
    }
    Javalin app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.http.maxRequestSize = maxBodyBytes;
      config.http.prefer405over404 = true;
      config.jsonMapper(new JavalinJackson(JsonBody.JSON, false));
      config.jetty.modifyServer(server -> server.setErrorHandler(new JettyErrors()));
      more.accept(config);
    });
    ApiErrors.register(app);
    // Javalin drops a parameter it cannot decode (?cursor=%zz reads as no cursor): refuse it instead.
    app.before(ctx -> requireWellFormedQuery(ctx.queryString()));
    return app;
  }

  /** Every {@code %} of a query string starts an escape of two hex digits, as URL decoding needs. */
  static void requireWellFormedQuery(String query) {
    if (query == null) {
      return;
    }
    for (int i = query.indexOf('%'); i >= 0; i = query.indexOf('%', i + 1)) {
      if (i + 2 >= query.length() || Character.digit(query.charAt(i + 1), 16) < 0 || Character.digit(query.charAt(i + 2), 16) < 0) {
        throw new InvalidInputException("the query string has a malformed %-escape at '"
            + SessionApi.abbreviate(query.substring(i)) + "': write % followed by two hex digits, such as %20");
      }
    }
  }

  /** Adds {@code /health} (public) and the memory routes under {@code /api/v1/users/{userId}}. */
  static void routes(Javalin app, Memories memories, long maxBodyBytes, ClusterEvents events) {
    new MemoryApi(memories, maxBodyBytes, events).routes(app);
  }

  private void routes(Javalin app) {
    // Liveness only: it must answer even when the database does not (that is /ready's job).
    app.get("/health", ctx -> ctx.json(Map.of("status", "ok")), Access.Role.PUBLIC);
    // Every route below has {userId}: Access lets in an API key or that user's session token.
    app.post(USER + "/memories", this::add);
    app.get(USER + "/memories", this::list);
    // A literal ':batch' inside the segment: Javalin only treats {...} and <...> as parameters.
    app.post(USER + "/memories:batch", this::addBatch);
    app.get(USER + "/memories/{id}", this::get);
    app.patch(USER + "/memories/{id}", this::update);
    app.delete(USER + "/memories/{id}", this::delete);
    app.delete(USER, this::deleteUser);
    app.get(USER + "/profile", this::profile);
    app.put(USER + "/profile", this::putProfile);
    app.get(USER + "/snapshot", this::snapshot);
    app.post(USER + "/search", this::search);
  }

  // --- handlers --------------------------------------------------------------------------

  void add(Context ctx) {
    String userId = ctx.pathParam("userId");
    // Stored as sent (no de-duplication), with its embedding: the plain add's contract.
    Memory memory = memories.addAll(userId, List.of(newMemory(JsonBody.read(ctx, maxBodyBytes))), false).getFirst().memory();
    ctx.status(HttpStatus.CREATED)
        .header("Location", "/api/v1/users/" + userId + "/memories/" + memory.id())
        .json(MemoryView.of(memory));
  }

  void addBatch(Context ctx) {
    List<NewMemory> memories = JsonBody.read(ctx, maxBodyBytes).allowOnly("memories")
        .requiredObjects("memories").stream().map(MemoryApi::newMemory).toList();
    List<AddResult> stored = this.memories.addAll(ctx.pathParam("userId"), memories, false);
    ctx.status(HttpStatus.CREATED).json(new ItemsView(stored.stream().map(r -> MemoryView.of(r.memory())).toList()));
  }

  void list(Context ctx) {
    int limit = intQueryParam(ctx, "limit", Limits.DEFAULT_PAGE_SIZE);
    Page<Memory> page = memories.list(ctx.pathParam("userId"), textQueryParam(ctx, "category"), limit, textQueryParam(ctx, "cursor"));
    ctx.json(new PageView(page.items().stream().map(MemoryView::of).toList(), page.nextCursor()));
  }

  void get(Context ctx) {
    ctx.json(MemoryView.of(memories.get(ctx.pathParam("userId"), memoryId(ctx))));
  }

  void update(Context ctx) {
    String userId = ctx.pathParam("userId");
    UUID id = memoryId(ctx);
    JsonBody body = JsonBody.read(ctx, maxBodyBytes).allowOnly(MEMORY_FIELDS);
    // The store has no way to clear a field, so null is refused rather than ignored.
    MemoryPatch patch = new MemoryPatch(body.optionalString("category"), body.optionalString("content"),
        body.objectAsText("metadata", false), body.instant("occurredAt", false));
    ctx.json(MemoryView.of(memories.update(userId, id, patch)));
  }

  void delete(Context ctx) {
    memories.delete(ctx.pathParam("userId"), memoryId(ctx));
    noContent(ctx);
  }

  /**
   * Every instance closes the user's sessions and refuses new ones first; then everything of
   * theirs goes in one transaction (see {@link Memories#deleteUser}); then the id is free again.
   */
  void deleteUser(Context ctx) {
    events.deleteUser(memories, ctx.pathParam("userId"));
    noContent(ctx);
  }

  void profile(Context ctx) {
    ctx.json(ProfileView.of(memories.profile(ctx.pathParam("userId"))));
  }

  void putProfile(Context ctx) {
    JsonBody body = JsonBody.read(ctx, maxBodyBytes).allowOnly("content", "expectedVersion");
    Profile profile = memories.putProfile(ctx.pathParam("userId"), body.requiredString("content"), body.optionalLong("expectedVersion"));
    ctx.json(ProfileView.of(profile));
  }

  void snapshot(Context ctx) {
    String categories = ctx.queryParam("categories");
    List<String> wanted = categories == null ? List.of()
        : Arrays.stream(categories.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    int perCategory = intQueryParam(ctx, "perCategory", Limits.DEFAULT_PER_CATEGORY);
    String userId = ctx.pathParam("userId");
    Snapshot snapshot;
    try {
      snapshot = memories.snapshot(userId, wanted, perCategory);
    } catch (NotFoundException e) {
      // A first-time caller is normal, not an error: what a companion knows of them is "nothing yet"
      // (the agent reads it so too), and a page's first visit raises no 404. The request was validated.
      Map<String, List<Memory>> none = new LinkedHashMap<>();
      for (String name : wanted.isEmpty() ? memories.categories().names() : wanted) {
        none.put(memories.categories().resolve(name), List.of());
      }
      snapshot = new Snapshot(userId, Profile.none(userId), none);
    }
    ctx.json(SnapshotView.of(snapshot));
  }

  void search(Context ctx) {
    JsonBody body = JsonBody.read(ctx, maxBodyBytes).allowOnly("query", "k", "categories", "from", "to", "at", "timeZone");
    Long k = body.optionalLong("k");
    if (k != null && (k < 1 || k > SearchRequest.MAX_K)) {
      throw new InvalidInputException("field 'k' must be between 1 and " + SearchRequest.MAX_K + " (was " + k + ")");
    }
    SearchRequest request = new SearchRequest(body.requiredString("query"), k == null ? SearchRequest.DEFAULT_K : k.intValue(),
        body.optionalStrings("categories"), body.instant("from", true), body.instant("to", true), SearchRequest.TimeField.OCCURRED,
        body.instant("at", true), timeZone(body.optionalString("timeZone")));
    List<SearchHit> hits = memories.search(ctx.pathParam("userId"), request);
    ctx.json(new HitsView(hits.stream().map(h -> new HitView(MemoryView.of(h.memory()), h.score())).toList()));
  }

  // --- request reading -------------------------------------------------------------------

  private static NewMemory newMemory(JsonBody body) {
    body.allowOnly(MEMORY_FIELDS);
    return new NewMemory(body.requiredString("category"), body.requiredString("content"),
        body.objectAsText("metadata", true), body.instant("occurredAt", true));
  }

  /** An IANA zone ("Asia/Karachi") or offset ("+05:00"); null when absent. */
  private static ZoneId timeZone(String zone) {
    if (zone == null) {
      return null;
    }
    try {
      return ZoneId.of(zone);
    } catch (DateTimeException e) {
      throw new InvalidInputException("field 'timeZone' must be a time zone such as \"Asia/Karachi\" or \"+05:00\" (was \"" + zone + "\")");
    }
  }

  private static void noContent(Context ctx) {
    ctx.status(HttpStatus.NO_CONTENT);
    ctx.res().setContentType(null); // Javalin's default text/plain would describe a body there is not
  }

  private static UUID memoryId(Context ctx) {
    return Memory.parseId(ctx.pathParam("id"));
  }

  /** An empty parameter ({@code ?cursor=}) counts as absent: clients often build URLs that way. */
  private static String textQueryParam(Context ctx, String name) {
    String value = ctx.queryParam(name);
    return value == null || value.isBlank() ? null : value;
  }

  private static int intQueryParam(Context ctx, String name, int fallback) {
    String value = ctx.queryParam(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new InvalidInputException("query parameter '" + name + "' must be a whole number (was '" + value + "')");
    }
  }

  // --- response shapes -------------------------------------------------------------------

  record MemoryView(String id, String userId, String category, String content, JsonNode metadata,
      String occurredAt, String createdAt, String updatedAt) {

    static MemoryView of(Memory m) {
      return new MemoryView(m.id().toString(), m.userId(), m.category(), m.content(), metadata(m),
          text(m.occurredAt()), text(m.createdAt()), text(m.updatedAt()));
    }

    /** Parsed rather than written raw, so a damaged row fails loudly instead of sending broken JSON. */
    private static JsonNode metadata(Memory m) {
      try {
        return JsonBody.JSON.readTree(m.metadata());
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("stored metadata of memory " + m.id() + " is not valid JSON", e);
      }
    }
  }

  record ItemsView(List<MemoryView> items) {}

  record HitView(MemoryView memory, double score) {}

  record HitsView(List<HitView> hits) {}

  record PageView(List<MemoryView> items, String nextCursor) {}

  record ProfileView(String userId, String content, long version, String updatedAt) {
    static ProfileView of(Profile p) {
      return new ProfileView(p.userId(), p.content(), p.version(), text(p.updatedAt()));
    }
  }

  record SnapshotView(String userId, ProfileView profile, Map<String, List<MemoryView>> memories) {
    static SnapshotView of(Snapshot s) {
      Map<String, List<MemoryView>> memories = new LinkedHashMap<>();
      s.memories().forEach((category, list) -> memories.put(category, list.stream().map(MemoryView::of).toList()));
      return new SnapshotView(s.userId(), ProfileView.of(s.profile()), memories);
    }
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
