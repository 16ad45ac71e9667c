package dev.yaad.server;

import dev.yaad.memory.Memories;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.SearchConfig;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The memory engine's settings for {@code serve}: search ranking and its memory bound,
 * de-duplication, and the cache (Redis included). Every one has an environment variable
 * ({@link #ENV_VARS}) and the engine's own default; the values are checked by the engine's
 * configuration types, and a bad one is a usage error naming the option.
 */
final class MemoryOptions {
  /** Each option's environment variable. */
  static final Map<String, String> ENV_VARS = Map.ofEntries(
      Map.entry("--search-dense-weight", "YAAD_SEARCH_DENSE_WEIGHT"),
      Map.entry("--search-lexical-weight", "YAAD_SEARCH_LEXICAL_WEIGHT"),
      Map.entry("--search-rrf-k", "YAAD_SEARCH_RRF_K"),
      Map.entry("--search-bm25-k1", "YAAD_SEARCH_BM25_K1"),
      Map.entry("--search-bm25-b", "YAAD_SEARCH_BM25_B"),
      Map.entry("--search-neighbour-weight", "YAAD_SEARCH_NEIGHBOUR_WEIGHT"),
      Map.entry("--search-time-boost", "YAAD_SEARCH_TIME_BOOST"),
      Map.entry("--search-max-index-mib", "YAAD_SEARCH_MAX_INDEX_MIB"),
      Map.entry("--search-neighbours", "YAAD_SEARCH_NEIGHBOURS"),
      Map.entry("--search-time-weight", "YAAD_SEARCH_TIME_WEIGHT"),
      Map.entry("--search-follow-weight", "YAAD_SEARCH_FOLLOW_WEIGHT"),
      Map.entry("--search-diversity", "YAAD_SEARCH_DIVERSITY"),
      Map.entry("--search-question-words", "YAAD_SEARCH_QUESTION_WORDS"),
      Map.entry("--search-question-penalty", "YAAD_SEARCH_QUESTION_PENALTY"),
      Map.entry("--duplicate-threshold", "YAAD_DUPLICATE_THRESHOLD"),
      Map.entry("--forget-min-cosine", "YAAD_FORGET_MIN_COSINE"),
      Map.entry("--forget-min-word-share", "YAAD_FORGET_MIN_WORD_SHARE"),
      Map.entry("--forget-margin", "YAAD_FORGET_MARGIN"),
      Map.entry("--redis-url", CacheConfig.REDIS_URL_ENV),
      Map.entry("--cache-l1-max-mib", "YAAD_CACHE_L1_MAX_MIB"),
      Map.entry("--cache-l1-ttl", "YAAD_CACHE_L1_TTL"),
      Map.entry("--cache-l1-ttl-while-redis-down", "YAAD_CACHE_L1_TTL_WHILE_REDIS_DOWN"),
      Map.entry("--cache-l2-ttl", "YAAD_CACHE_L2_TTL"),
      Map.entry("--redis-timeout", "YAAD_REDIS_TIMEOUT"),
      Map.entry("--redis-check-interval", "YAAD_REDIS_CHECK_INTERVAL"),
      Map.entry("--redis-key-prefix", "YAAD_REDIS_KEY_PREFIX"),
      Map.entry("--cache-max-pending-invalidations", "YAAD_CACHE_MAX_PENDING_INVALIDATIONS"));

  /** Which option sets each configuration field, to name it in a usage error. */
  private static final Map<String, String> OPTION_OF = Map.ofEntries(
      Map.entry("denseWeight", "--search-dense-weight"), Map.entry("lexicalWeight", "--search-lexical-weight"),
      Map.entry("rrfK", "--search-rrf-k"), Map.entry("bm25K1", "--search-bm25-k1"), Map.entry("bm25B", "--search-bm25-b"),
      Map.entry("neighbourWeight", "--search-neighbour-weight"), Map.entry("timeBoost", "--search-time-boost"),
      Map.entry("maxIndexBytes", "--search-max-index-mib"), Map.entry("neighbours", "--search-neighbours"),
      Map.entry("timeWeight", "--search-time-weight"), Map.entry("followWeight", "--search-follow-weight"),
      Map.entry("diversity", "--search-diversity"), Map.entry("questionPenalty", "--search-question-penalty"),
      Map.entry("minCosine", "--forget-min-cosine"),
      Map.entry("minWordShare", "--forget-min-word-share"), Map.entry("margin", "--forget-margin"), Map.entry("redisUrl", "--redis-url"),
      Map.entry("l1MaxWeightBytes", "--cache-l1-max-mib"), Map.entry("l1TtlWhileRedisDown", "--cache-l1-ttl-while-redis-down"),
      Map.entry("l1Ttl", "--cache-l1-ttl"), Map.entry("l2Ttl", "--cache-l2-ttl"), Map.entry("redisTimeout", "--redis-timeout"),
      Map.entry("redisCheckInterval", "--redis-check-interval"), Map.entry("redisKeyPrefix", "--redis-key-prefix"),
      Map.entry("maxPendingInvalidations", "--cache-max-pending-invalidations"));

  private static final long MIB = 1024 * 1024;

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--search-dense-weight", defaultValue = "" + SearchConfig.DEFAULT_DENSE_WEIGHT, paramLabel = "W",
      description = "Weight of vector similarity in search ranking, 0 or more. Env YAAD_SEARCH_DENSE_WEIGHT. Default: ${DEFAULT-VALUE}.")
  double denseWeight;

  @Option(names = "--search-lexical-weight", defaultValue = "" + SearchConfig.DEFAULT_LEXICAL_WEIGHT, paramLabel = "W",
      description = "Weight of word matching (BM25) in search ranking, 0 or more. Env YAAD_SEARCH_LEXICAL_WEIGHT. Default: ${DEFAULT-VALUE}.")
  double lexicalWeight;

  @Option(names = "--search-rrf-k", defaultValue = "" + SearchConfig.DEFAULT_RRF_K, paramLabel = "K",
      description = "Rank offset of the fusion; larger flattens the head of each list. Env YAAD_SEARCH_RRF_K. Default: ${DEFAULT-VALUE}.")
  int rrfK;

  @Option(names = "--search-bm25-k1", defaultValue = "" + SearchConfig.DEFAULT_BM25_K1, paramLabel = "K1",
      description = "BM25 term-frequency saturation. Env YAAD_SEARCH_BM25_K1. Default: ${DEFAULT-VALUE}.")
  double bm25K1;

  @Option(names = "--search-bm25-b", defaultValue = "" + SearchConfig.DEFAULT_BM25_B, paramLabel = "B",
      description = "BM25 length normalisation, 0 to 1. Env YAAD_SEARCH_BM25_B. Default: ${DEFAULT-VALUE}.")
  double bm25B;

  @Option(names = "--search-neighbour-weight", defaultValue = "" + SearchConfig.DEFAULT_NEIGHBOUR_WEIGHT, paramLabel = "W",
      description = "How much a memory's neighbours (written within an hour of it) add to its score, 0 to 1."
          + " Env YAAD_SEARCH_NEIGHBOUR_WEIGHT. Default: ${DEFAULT-VALUE}.")
  double neighbourWeight;

  @Option(names = "--search-time-boost", defaultValue = "" + SearchConfig.DEFAULT_TIME_BOOST, paramLabel = "B",
      description = "Score boost for memories of the month or year a query names, 0 or more. Env YAAD_SEARCH_TIME_BOOST."
          + " Default: ${DEFAULT-VALUE}.")
  double timeBoost;

  @Option(names = "--search-neighbours", defaultValue = "" + SearchConfig.DEFAULT_NEIGHBOURS, paramLabel = "N",
      description = "How many neighbours on each side (memories written within an hour) lend a memory their score, 1 to "
          + SearchConfig.MAX_NEIGHBOURS + ". Env YAAD_SEARCH_NEIGHBOURS. Default: ${DEFAULT-VALUE}.")
  int neighbours;

  @Option(names = "--search-time-weight", defaultValue = "" + SearchConfig.DEFAULT_TIME_WEIGHT, paramLabel = "W",
      description = "Weight of the ranked list of memories from a day, week, month or year the query names, 0 or more."
          + " Env YAAD_SEARCH_TIME_WEIGHT. Default: ${DEFAULT-VALUE}.")
  double timeWeight;

  @Option(names = "--search-follow-weight", defaultValue = "" + SearchConfig.DEFAULT_FOLLOW_WEIGHT, paramLabel = "W",
      description = "Weight of memories that share a rare word with the first hits (following a person or place), 0 or more."
          + " Env YAAD_SEARCH_FOLLOW_WEIGHT. Default: ${DEFAULT-VALUE}.")
  double followWeight;

  @Option(names = "--search-diversity", defaultValue = "" + SearchConfig.DEFAULT_DIVERSITY, paramLabel = "L",
      description = "How strongly near-repeats are pushed down the top results, 0 (off) to 1. Env YAAD_SEARCH_DIVERSITY."
          + " Default: ${DEFAULT-VALUE}.")
  double diversity;

  @Option(names = "--search-question-words", defaultValue = "false", paramLabel = "true|false", arity = "1",
      description = "Whether question words (what, did, کیا, کب...) count in lexical ranking. Env YAAD_SEARCH_QUESTION_WORDS."
          + " Default: ${DEFAULT-VALUE}.")
  boolean questionWords;

  @Option(names = "--search-question-penalty", defaultValue = "" + SearchConfig.DEFAULT_QUESTION_PENALTY, paramLabel = "P",
      description = "How much lower a memory that asks something (ends in ? or ؟) ranks, 0 (off) to 1."
          + " Env YAAD_SEARCH_QUESTION_PENALTY. Default: ${DEFAULT-VALUE}.")
  double questionPenalty;

  @Option(names = "--search-max-index-mib", defaultValue = "" + SearchConfig.DEFAULT_MAX_INDEX_BYTES / MIB, paramLabel = "MIB",
      description = "Bound on all users' in-memory search state, in MiB (least recently used dropped first)."
          + " Env YAAD_SEARCH_MAX_INDEX_MIB. Default: ${DEFAULT-VALUE}.")
  long maxIndexMib;

  @Option(names = "--duplicate-threshold", paramLabel = "COSINE",
      description = "A new memory at least this similar to one of the same category updates it instead of adding, in (0, 1]."
          + " Env YAAD_DUPLICATE_THRESHOLD. Default: the embedding model's, " + Memories.DEFAULT_DUPLICATE_THRESHOLD + " for "
          + OnnxEmbedder.MINILM_MODEL_ID + " and " + OnnxEmbedder.BGE_MODEL_ID + ", " + OnnxEmbedder.E5_DUPLICATE_THRESHOLD + " for "
          + OnnxEmbedder.E5_MODEL_ID + ".")
  Double duplicateThreshold;

  @Option(names = "--forget-min-cosine", defaultValue = "" + ForgetRule.DEFAULT_MIN_COSINE, paramLabel = "COSINE",
      description = "A description (\"forget my goldfish\") names a memory only if their embeddings are at least this similar,"
          + " 0 to 1, and they share enough words (--forget-min-word-share). Env YAAD_FORGET_MIN_COSINE. Default: ${DEFAULT-VALUE}.")
  double forgetMinCosine;

  @Option(names = "--forget-min-word-share", defaultValue = "" + ForgetRule.DEFAULT_MIN_WORD_SHARE, paramLabel = "SHARE",
      description = "The share of a description's distinctive words a memory must contain to be forgotten by it, in (0, 1]."
          + " Env YAAD_FORGET_MIN_WORD_SHARE. Default: ${DEFAULT-VALUE}.")
  double forgetMinWordShare;

  @Option(names = "--forget-margin", defaultValue = "" + ForgetRule.DEFAULT_MARGIN, paramLabel = "COSINE",
      description = "When several memories match a description, the best is forgotten only if it leads the next by this much"
          + " cosine; else nothing is forgotten and the model asks. Env YAAD_FORGET_MARGIN. Default: ${DEFAULT-VALUE}.")
  double forgetMargin;

  @Option(names = "--redis-url", paramLabel = "URL",
      description = {"Redis for the shared cache (L2) and cross-instance invalidation, e.g. redis://127.0.0.1:6379.",
          "Env " + CacheConfig.REDIS_URL_ENV + ". Default: none, the in-process cache only (right for one instance)."})
  String redisUrl;

  @Option(names = "--cache-l1-max-mib", defaultValue = "" + CacheConfig.DEFAULT_L1_MAX_WEIGHT_BYTES / MIB, paramLabel = "MIB",
      description = "Heap the in-process cache may hold, in MiB (estimated); 0 turns it off. Env YAAD_CACHE_L1_MAX_MIB."
          + " Default: ${DEFAULT-VALUE}.")
  long l1MaxMib;

  @Option(names = "--cache-l1-ttl", defaultValue = "PT5M", paramLabel = "DURATION",
      description = "How long an in-process entry lives (ISO-8601, e.g. PT5M). Env YAAD_CACHE_L1_TTL. Default: ${DEFAULT-VALUE}.")
  Duration l1Ttl;

  @Option(names = "--cache-l1-ttl-while-redis-down", defaultValue = "PT2S", paramLabel = "DURATION",
      description = "How long an in-process entry lives while Redis is configured but down: the bound on how stale another"
          + " instance's write can look. Env YAAD_CACHE_L1_TTL_WHILE_REDIS_DOWN. Default: ${DEFAULT-VALUE}.")
  Duration l1TtlWhileRedisDown;

  @Option(names = "--cache-l2-ttl", defaultValue = "PT30M", paramLabel = "DURATION",
      description = "How long a user's entries live in Redis after their last fill. Env YAAD_CACHE_L2_TTL. Default: ${DEFAULT-VALUE}.")
  Duration l2Ttl;

  @Option(names = "--redis-timeout", defaultValue = "PT0.1S", paramLabel = "DURATION",
      description = "Bound on every Redis command; slower counts as Redis down. Env YAAD_REDIS_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  Duration redisTimeout;

  @Option(names = "--redis-check-interval", defaultValue = "PT0.5S", paramLabel = "DURATION",
      description = "How often Redis is pinged while up and retried while down. Env YAAD_REDIS_CHECK_INTERVAL."
          + " Default: ${DEFAULT-VALUE}.")
  Duration redisCheckInterval;

  @Option(names = "--redis-key-prefix", defaultValue = CacheConfig.DEFAULT_REDIS_KEY_PREFIX, paramLabel = "PREFIX",
      description = "Prefix of every Redis key and of the invalidation channel. Env YAAD_REDIS_KEY_PREFIX. Default: ${DEFAULT-VALUE}.")
  String redisKeyPrefix;

  @Option(names = "--cache-max-pending-invalidations", defaultValue = "" + CacheConfig.DEFAULT_MAX_PENDING_INVALIDATIONS,
      paramLabel = "N", description = "Users whose invalidation is remembered while Redis is down, to replay on reconnect;"
          + " beyond it the whole prefix is dropped then. Env YAAD_CACHE_MAX_PENDING_INVALIDATIONS. Default: ${DEFAULT-VALUE}.")
  int maxPendingInvalidations;

  SearchConfig searchConfig() {
    try {
      return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost,
          Math.multiplyExact(maxIndexMib, MIB), neighbours, timeWeight, followWeight, diversity, questionWords,
          questionPenalty);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw usageError(e);
    }
  }

  ForgetRule forgetRule() {
    try {
      return new ForgetRule(forgetMinCosine, forgetMinWordShare, forgetMargin);
    } catch (IllegalArgumentException e) {
      throw usageError(e);
    }
  }

  /** The threshold the option sets, or {@code embedder}'s own. */
  double duplicateThreshold(Embedder embedder) {
    if (duplicateThreshold == null) {
      return embedder.duplicateThreshold();
    }
    if (!(duplicateThreshold > 0 && duplicateThreshold <= 1)) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--duplicate-threshold': it must be in (0, 1] (was " + duplicateThreshold + ")");
    }
    return duplicateThreshold;
  }

  CacheConfig cacheConfig() {
    try {
      return CacheConfig.defaults().withRedisUrl(redisUrl).withL1MaxWeightBytes(Math.multiplyExact(l1MaxMib, MIB))
          .withTtls(l1Ttl, l1TtlWhileRedisDown, l2Ttl).withRedisTimeouts(redisTimeout, redisCheckInterval)
          .withRedisKeyPrefix(redisKeyPrefix).withMaxPendingInvalidations(maxPendingInvalidations);
    } catch (IllegalArgumentException | ArithmeticException | NullPointerException e) {
      throw usageError(e);
    }
  }

  /** The configuration types name their field first ("rrfK must be ..."): name the option instead. */
  private ParameterException usageError(RuntimeException e) {
    String message = String.valueOf(e.getMessage());
    String field = message.split("[ (]", 2)[0];
    String option = OPTION_OF.get(field);
    return new ParameterException(spec.commandLine(), option == null ? "Invalid memory setting: " + message
        : "Invalid value for option '" + option + "': " + message);
  }
}
