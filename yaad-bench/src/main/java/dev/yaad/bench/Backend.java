package dev.yaad.bench;

import java.util.Locale;

/** The databases a benchmark can run on, with where each one lives by default. */
enum Backend {
  POSTGRES("jdbc:postgresql://127.0.0.1:5432/test"),
  H2("jdbc:h2:file:./data/bench/yaad-bench");

  final String defaultUrl;

  Backend(String defaultUrl) {
    this.defaultUrl = defaultUrl;
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
