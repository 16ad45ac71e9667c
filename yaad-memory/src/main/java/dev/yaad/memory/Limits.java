package dev.yaad.memory;

/** The bounds every store enforces; the REST API documents the same numbers. */
public final class Limits {
  public static final int MAX_CONTENT_BYTES = 8 * 1024;
  public static final int MAX_METADATA_BYTES = 4 * 1024;
  public static final int MAX_USER_ID_LENGTH = 128;
  public static final int MAX_BATCH_SIZE = 1000;
  public static final int MAX_PAGE_SIZE = 100;
  public static final int DEFAULT_PAGE_SIZE = 20;
  public static final int MAX_PER_CATEGORY = 50;
  public static final int DEFAULT_PER_CATEGORY = 5;

  private Limits() {}
}
