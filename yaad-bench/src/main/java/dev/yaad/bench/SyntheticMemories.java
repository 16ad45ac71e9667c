package dev.yaad.bench;

import dev.yaad.memory.Categories;
import dev.yaad.memory.Memory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Deterministic, realistic-looking users and memories for benchmarks: for one {@code now},
 * the same index always gives the same user, whatever the backend or the order of generation.
 *
 * <p>Shape, as a companion's memory would look after months of calls: each user joined at
 * some point in the last two years; memories arrive in bursts of 1-6 per conversation, at
 * conversations spread between joining and now; categories are uneven (facts and
 * preferences common, opinions rare); contents are 40-160 characters, a fifth of them in
 * Urdu; a third carry the time the remembered thing happened.
 */
final class SyntheticMemories {
  /** Bump whenever the generated data changes, so stored benchmark data is reseeded. */
  static final int DATA_VERSION = 1;

  /** Relative frequency of {@link Categories#DEFAULT_NAMES}, in that order. */
  private static final int[] CATEGORY_WEIGHTS = {22, 8, 14, 13, 18, 8, 11, 6};
  private static final long SEED = 0x59A4D_2026L;
  private static final Duration HISTORY = Duration.ofDays(730);

  private static final String[] NAMES = {"Ayesha", "Bilal", "Fatima", "Hamza", "Zainab", "Usman", "Sana", "Omar", "Maryam", "Ali"};
  private static final String[] PLACES = {"Lahore", "Karachi", "Islamabad", "Peshawar", "Multan", "Quetta", "Faisalabad", "London", "Toronto", "Dubai"};
  private static final String[] THINGS = {"cricket", "chai with cardamom", "Faiz's poetry", "gardening", "old Bollywood songs",
      "biryani", "long drives", "calligraphy", "chess", "the Quran study circle", "learning English", "baking"};
  private static final String[] PEOPLE = {"mother", "father", "younger sister", "elder brother", "best friend", "wife", "husband",
      "daughter", "son", "neighbour"};
  private static final String[][] TEMPLATES = {
      {"Lives in %p and works as a %t teacher at a local school.", "Was born in %p; moved away after university.",
          "Has two children and a cat named %n.", "میں %p میں رہتا ہوں اور صبح سویرے اٹھتا ہوں۔"},
      {"Wants to get better at %t before the end of the year.", "Hopes to visit %p with their %r next summer.",
          "میرا مقصد ہے کہ میں روزانہ %t کی مشق کروں۔"},
      {"Enjoys %t, especially on weekends.", "Has recently become interested in %t.", "مجھے %t بہت پسند ہے۔"},
      {"Went to %p with their %r and got lost in the old bazaar.", "Had a difficult week at work; felt better after talking about %t.",
          "پچھلے سال %p کا سفر یادگار تھا۔"},
      {"Prefers to be called %n.", "Likes short answers in the morning and longer chats at night.", "Prefers %t over %t.",
          "مجھے صبح %t کے ساتھ بات کرنا اچھا لگتا ہے۔"},
      {"Plans to call their %r on Sunday evening.", "Is planning a trip to %p in the spring.", "اگلے ہفتے %r سے ملنے جانا ہے۔"},
      {"Their %r %n lives in %p.", "Is very close to their %r, who also loves %t.", "میری %r کا نام %n ہے۔"},
      {"Thinks %t is underrated.", "Believes people in %p are the friendliest.", "میرے خیال میں %t سب سے اچھا ہے۔"},
  };

  private final List<String> categories = Categories.DEFAULT_NAMES;
  private final int memoriesPerUser;
  private final Instant now;

  SyntheticMemories(int memoriesPerUser, Instant now) {
    this.memoriesPerUser = memoriesPerUser;
    this.now = now;
  }

  static String userId(int index) {
    return "bench-user-" + index;
  }

  record User(String id, Instant joinedAt, String profile, Instant profileUpdatedAt) {}

  User user(int index) {
    SplittableRandom random = random(index, 1);
    Instant joined = now.minusSeconds(3_600 * 24 * 30 + random.nextLong(HISTORY.toSeconds() - 3_600 * 24 * 30));
    String name = pick(random, NAMES);
    String profile = name + " is a companion user from " + pick(random, PLACES) + ". They talk most about "
        + pick(random, THINGS) + " and " + pick(random, THINGS) + ", and mention their " + pick(random, PEOPLE)
        + " often. They prefer a warm, unhurried tone, switch between Urdu and English mid-sentence, and like being"
        + " asked about their day before anything else. Recent calls were about " + pick(random, THINGS) + " and a plan to visit "
        + pick(random, PLACES) + ". وہ اپنے خاندان کے بارے میں بات کرنا پسند کرتے ہیں۔";
    Instant updated = joined.plusSeconds(random.nextLong(Math.max(1, now.getEpochSecond() - joined.getEpochSecond())));
    return new User(userId(index), joined, profile, updated);
  }

  /** The user's memories, in the order they were created. */
  void memories(int index, Consumer<Memory> sink) {
    User user = user(index);
    SplittableRandom random = random(index, 2);
    long span = now.getEpochSecond() - user.joinedAt().getEpochSecond();
    int made = 0;
    int turn = 0;
    long conversationStart = user.joinedAt().getEpochSecond();
    long step = Math.max(1, span / Math.max(1, memoriesPerUser / 3));
    while (made < memoriesPerUser) {
      // Conversations are spread over the user's history, a few memories each.
      conversationStart = Math.min(now.getEpochSecond() - 3_600, conversationStart + 1 + random.nextLong(step));
      int burst = Math.min(memoriesPerUser - made, 1 + random.nextInt(6));
      long at = conversationStart;
      for (int i = 0; i < burst; i++, made++) {
        at += 5 + random.nextInt(300);
        Instant created = Instant.ofEpochSecond(at, random.nextInt(1_000_000) * 1_000L);
        int category = category(random);
        Instant occurred = random.nextInt(3) == 0 ? created.minusSeconds(random.nextLong(3_600L * 24 * 3650)) : null;
        Instant updated = random.nextInt(10) == 0 ? created.plusSeconds(random.nextLong(3_600L * 24 * 30)) : created;
        String metadata = "{\"source\":\"conversation\",\"turn\":" + (++turn) + ",\"confidence\":0."
            + (50 + random.nextInt(50)) + "}";
        sink.accept(new Memory(uuidV7(created, random), user.id(), categories.get(category),
            content(random, category), metadata, occurred, created, updated));
      }
    }
  }

  private int category(SplittableRandom random) {
    int roll = random.nextInt(100);
    for (int i = 0; i < CATEGORY_WEIGHTS.length; i++) {
      roll -= CATEGORY_WEIGHTS[i];
      if (roll < 0) {
        return i;
      }
    }
    return CATEGORY_WEIGHTS.length - 1;
  }

  private static String content(SplittableRandom random, int category) {
    String[] templates = TEMPLATES[category];
    String text = templates[random.nextInt(templates.length)];
    StringBuilder out = new StringBuilder(160);
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch == '%' && i + 1 < text.length()) {
        char slot = text.charAt(++i);
        out.append(switch (slot) {
          case 'p' -> pick(random, PLACES);
          case 't' -> pick(random, THINGS);
          case 'r' -> pick(random, PEOPLE);
          case 'n' -> pick(random, NAMES);
          default -> "%" + slot;
        });
      } else {
        out.append(ch);
      }
    }
    if (random.nextInt(2) == 0) {
      out.append(" Mentioned again when talking about ").append(pick(random, THINGS)).append('.');
    }
    return out.toString();
  }

  /** A version-7 UUID for the creation time, as the store makes them. */
  private static UUID uuidV7(Instant created, SplittableRandom random) {
    long msb = (created.toEpochMilli() << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /**
   * One independent stream per (user, purpose). The seed is hashed: SplittableRandom steps its
   * seed by a fixed gamma, so seeds that differ by a multiple of it would give shifted copies.
   */
  private static SplittableRandom random(int index, int stream) {
    long z = SEED ^ ((long) index << 8 | stream);
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL; // MurmurHash3's 64-bit finaliser
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return new SplittableRandom(z ^ (z >>> 33));
  }

  private static String pick(SplittableRandom random, String[] values) {
    return values[random.nextInt(values.length)];
  }
}
