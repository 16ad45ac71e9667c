package dev.yaad.memory;

import java.util.List;

/** One page of a listing; {@code nextCursor} is {@code null} on the last page. */
public record Page<T>(List<T> items, String nextCursor) {}
