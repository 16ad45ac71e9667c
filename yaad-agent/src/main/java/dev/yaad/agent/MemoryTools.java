package dev.yaad.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.yaad.agent.learning.Learned;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.Snapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory tools the model may call, bound to one session's user: no tool takes a user
 * id, so the model cannot read or change another user's memories. Every call returns a
 * {@link Result}: a short text for the model and whether the call succeeded; a failure's text
 * is an {@code error: ...} the model can act on (apologise, ask again), never an exception
 * that would break the turn. A call that changed memory says what it changed, as a
 * {@link Learned}, to the sink given with it.
 */
final class MemoryTools {
  static final String GET_COMPLETE_USER_INFO = "getCompleteUserInfo";
  static final String SEARCH_MEMORIES = "searchMemories";
  static final String SAVE_MEMORY = "saveMemory";
  static final String FORGET_MEMORY = "forgetMemory";
  static final int DEFAULT_K = 5;
  static final int MAX_K = 20;

  private static final Logger log = LoggerFactory.getLogger(MemoryTools.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What one tool call gives back.
   *
   * @param text what the model is told
   * @param ok   whether the call did what was asked (a search that finds nothing did); false
   *             for bad arguments, an unknown tool or a failing memory
   */
  record Result(String text, boolean ok) {
    static Result ok(String text) {
      return new Result(text, true);
    }

    static Result error(String message) {
      return new Result("error: " + message, false);
    }
  }

  private final String userId;
  private final MemoryAccess memory;
  private final Instant sessionOpened;
  private final List<ToolSpecification> specifications;

  /** @param sessionOpened when the session opened: if the user is deleted since, its tools write nothing */
  MemoryTools(String userId, MemoryAccess memory, Instant sessionOpened) {
    this.userId = userId;
    this.memory = memory;
    this.sessionOpened = sessionOpened;
    this.specifications = specifications(memory.categories().names());
  }

  List<ToolSpecification> specifications() {
    return specifications;
  }

  private static List<ToolSpecification> specifications(List<String> categories) {
    JsonEnumSchema category = JsonEnumSchema.builder().enumValues(categories).build();
    return List.of(
        ToolSpecification.builder().name(GET_COMPLETE_USER_INFO)
            .description("Everything known about the user: their profile and their newest memories of every category. "
                + "Use when the user asks what you know or remember about them.")
            .parameters(JsonObjectSchema.builder().build())
            .build(),
        ToolSpecification.builder().name(SEARCH_MEMORIES)
            .description("Finds the user's memories about a topic, best match first.")
            .parameters(JsonObjectSchema.builder()
                .addStringProperty("query", "what to look for, in the user's words")
                .addProperty("categories", JsonArraySchema.builder().items(category)
                    .description("only these categories; omit for all").build())
                .addIntegerProperty("k", "how many memories at most (default " + DEFAULT_K + ", at most " + MAX_K + ")")
                .required("query")
                .build())
            .build(),
        ToolSpecification.builder().name(SAVE_MEMORY)
            .description("Remembers one thing about the user for future conversations. "
                + "Use when the user tells you something lasting about themselves or asks you to remember it.")
            .parameters(JsonObjectSchema.builder()
                .addEnumProperty("category", categories, "the kind of memory")
                .addStringProperty("content", "one short self-contained sentence about the user, in their language")
                .required("category", "content")
                .build())
            .build(),
        ToolSpecification.builder().name(FORGET_MEMORY)
            .description("Forgets one memory the user wants forgotten: give its id if known, else describe it."
                + " A description forgets only a memory it clearly names; if none or several match, nothing is forgotten"
                + " and you are told which, so ask the user.")
            .parameters(JsonObjectSchema.builder()
                .addStringProperty("id", "the memory's id, from getCompleteUserInfo or searchMemories")
                .addStringProperty("description", "what to forget, if the id is not known")
                .build())
            .build());
  }

  /**
   * Runs one tool call; never throws.
   *
   * @param changed told what the call added, updated or deleted, once the store has it (not
   *                told for reads, nor for a save that found the fact already remembered)
   */
  Result execute(ToolExecutionRequest request, Consumer<Learned> changed) {
    try {
      JsonNode args = parseArguments(request.arguments());
      return switch (request.name()) {
        case GET_COMPLETE_USER_INFO -> Result.ok(completeUserInfo());
        case SEARCH_MEMORIES -> Result.ok(search(args));
        case SAVE_MEMORY -> Result.ok(save(args, changed));
        case FORGET_MEMORY -> Result.ok(forget(args, changed));
        default -> Result.error("there is no tool named '" + request.name() + "'; the tools are "
            + GET_COMPLETE_USER_INFO + ", " + SEARCH_MEMORIES + ", " + SAVE_MEMORY + ", " + FORGET_MEMORY);
      };
    } catch (BadArguments e) {
      return Result.error(e.getMessage());
    } catch (MemoryException e) {
      if (e.isRetriable()) {
        log.warn("tools: {} for user {} failed: {}", request.name(), userId, e.getMessage());
        return Result.error("memory is unavailable right now; tell the user you cannot reach your memory at the moment");
      }
      return Result.error(e.getMessage());
    } catch (RuntimeException e) {
      log.warn("tools: {} for user {} failed", request.name(), userId, e);
      return Result.error("the tool failed unexpectedly; continue without it");
    }
  }

  private String completeUserInfo() {
    Snapshot snapshot = memory.snapshot(userId);
    ObjectNode out = JSON.createObjectNode();
    out.put("profile", snapshot.profile().content());
    ObjectNode memories = out.putObject("memories");
    for (Map.Entry<String, List<Memory>> e : snapshot.memories().entrySet()) {
      if (!e.getValue().isEmpty()) {
        memories.set(e.getKey(), list(e.getValue()));
      }
    }
    return out.toString();
  }

  private String search(JsonNode args) {
    String query = requiredText(args, "query");
    List<String> categories = new ArrayList<>();
    JsonNode cats = args.path("categories");
    if (cats.isArray()) {
      cats.forEach(c -> categories.add(c.asText()));
    } else if (cats.isTextual() && !cats.asText().isBlank()) {
      categories.add(cats.asText());
    }
    int k = args.path("k").isNumber() ? args.path("k").asInt() : DEFAULT_K;
    if (k < 1 || k > MAX_K) {
      throw new BadArguments("k must be 1.." + MAX_K + " (was " + k + ")");
    }
    List<Memory> found = memory.search(userId, query, categories, k);
    return found.isEmpty() ? "no memories match '" + query + "'" : list(found).toString();
  }

  private String save(JsonNode args, Consumer<Learned> changed) {
    String category = requiredText(args, "category");
    String content = requiredText(args, "content");
    MemoryAccess.Saved saved = memory.save(userId, category, content, sessionOpened);
    List<Memory> one = List.of(saved.memory());
    return switch (saved.outcome()) {
      case ADDED -> {
        changed.accept(new Learned(userId, one, List.of(), List.of(), null));
        yield "saved as a new memory (id " + saved.memory().id() + ")";
      }
      case UPDATED -> {
        changed.accept(new Learned(userId, List.of(), one, List.of(), null));
        yield "updated an earlier memory (id " + saved.memory().id() + "): " + saved.memory().content();
      }
      case UNCHANGED -> "already remembered (id " + saved.memory().id() + ")";
    };
  }

  private String forget(JsonNode args, Consumer<Learned> changed) {
    String id = args.path("id").asText("").strip();
    String description = args.path("description").asText("").strip();
    if (id.isEmpty() && description.isEmpty()) {
      throw new BadArguments("give the memory's id or a description of it");
    }
    if (!id.isEmpty()) {
      UUID uuid;
      try {
        uuid = UUID.fromString(id);
      } catch (IllegalArgumentException e) {
        if (description.isEmpty()) {
          description = id; // the model put a description where the id goes
        }
        uuid = null;
      }
      if (uuid != null) {
        Optional<Memory> gone = memory.forget(userId, uuid);
        if (gone.isPresent()) {
          changed.accept(forgotten(gone.get()));
          return "forgot: " + gone.get().content();
        }
        if (description.isEmpty()) {
          return "no memory has id " + id + "; nothing was forgotten";
        }
      }
    }
    // Only a memory the description names well enough (words and meaning), never the best hit whatever its score.
    List<Memory> matches = memory.matchToForget(userId, description);
    if (matches.isEmpty()) {
      return "no memory matches '" + description + "' closely enough; nothing was forgotten. Ask the user which memory"
          + " they mean (searchMemories can help), then forget it by its id";
    }
    if (matches.size() > 1) {
      return "several memories match '" + description + "'; nothing was forgotten. Ask the user which one they mean,"
          + " then forget it by its id: " + list(matches);
    }
    Optional<Memory> gone = memory.forget(userId, matches.getFirst().id());
    if (gone.isEmpty()) {
      return "no memory matches '" + description + "' any more; nothing was forgotten";
    }
    changed.accept(forgotten(gone.get()));
    return "forgot: " + gone.get().content();
  }

  private Learned forgotten(Memory gone) {
    return new Learned(userId, List.of(), List.of(), List.of(gone.id()), null);
  }

  private static ArrayNode list(List<Memory> memories) {
    ArrayNode out = JSON.createArrayNode();
    for (Memory m : memories) {
      ObjectNode o = out.addObject();
      o.put("id", m.id().toString()).put("category", m.category()).put("content", m.content());
      if (m.occurredAt() != null) {
        o.put("when", m.occurredAt().toString());
      }
    }
    return out;
  }

  private static JsonNode parseArguments(String arguments) {
    if (arguments == null || arguments.isBlank()) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(arguments);
      if (!node.isObject()) {
        throw new BadArguments("arguments must be a JSON object (was " + abbreviate(arguments) + ")");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BadArguments("arguments are not valid JSON: " + abbreviate(arguments));
    }
  }

  private static String requiredText(JsonNode args, String field) {
    JsonNode v = args.path(field);
    if (!v.isTextual() || v.asText().isBlank()) {
      throw new BadArguments("'" + field + "' is required and must be non-blank text");
    }
    return v.asText().strip();
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  private static final class BadArguments extends RuntimeException {
    BadArguments(String message) {
      super(message, null, false, false);
    }
  }
}
