package dev.yaad.memory;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configured set of memory categories. Names are upper case ASCII; lookups ignore ASCII
 * case, so {@code "goal"} resolves to {@code GOAL} (and {@code "ınterest"}, with a dotless i,
 * resolves to nothing).
 */
public final class Categories {
  public static final List<String> DEFAULT_NAMES =
      List.of("FACT", "GOAL", "INTEREST", "EXPERIENCE", "PREFERENCE", "PLAN", "RELATIONSHIP", "OPINION");
  public static final Categories DEFAULT = new Categories(DEFAULT_NAMES);

  private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,31}");
  private final List<String> names;

  private Categories(List<String> names) {
    this.names = List.copyOf(names);
  }

  /**
   * @throws IllegalArgumentException if the list is empty, repeats a name, or a name is
   *     not 1-32 letters, digits or underscores starting with a letter
   */
  public static Categories of(List<String> names) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("categories must not be empty");
    }
    Set<String> seen = new LinkedHashSet<>();
    for (String raw : names) {
      String name = asciiUpper(raw.strip());
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("category name '" + raw + "' must be 1-32 of A-Z, 0-9, _ starting with a letter");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException("category '" + name + "' is listed twice");
      }
    }
    return new Categories(List.copyOf(seen));
  }

  /** Parses a comma-separated list such as {@code "FACT,GOAL"}. */
  public static Categories parse(String commaSeparated) {
    return of(List.of(commaSeparated.split(",")));
  }

  public List<String> names() {
    return names;
  }

  /**
   * @return the canonical (upper-case) name
   * @throws InvalidInputException if the name is not configured
   */
  public String resolve(String name) {
    if (name == null || name.isBlank()) {
      throw new InvalidInputException("category is required; one of " + names);
    }
    String upper = asciiUpper(name.strip());
    if (upper == null || !names.contains(upper)) {
      throw new InvalidInputException("unknown category '" + name + "'; expected one of " + names);
    }
    return upper;
  }

  /**
   * Upper case for ASCII names only, {@code null} for anything else: Java's case folding maps
   * some other letters onto ASCII ({@code "ınterest"} with a dotless i becomes
   * {@code "INTEREST"}, {@code "ﬁ"} becomes {@code "FI"}), and a name that only folds to a
   * category is not that category.
   */
  private static String asciiUpper(String name) {
    for (int i = 0; i < name.length(); i++) {
      if (name.charAt(i) > 0x7F) {
        return null;
      }
    }
    return name.toUpperCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return String.join(",", names);
  }
}
