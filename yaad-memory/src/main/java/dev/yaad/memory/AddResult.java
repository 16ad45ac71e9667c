package dev.yaad.memory;

/**
 * What adding one memory did.
 *
 * @param outcome what happened
 * @param memory  the memory as stored now: the new one ({@code ADDED}), the existing one with
 *                the new text ({@code UPDATED}), or the existing one untouched ({@code UNCHANGED})
 */
public record AddResult(Outcome outcome, Memory memory) {

  public enum Outcome {
    /** A new memory was stored. */
    ADDED,
    /** A near duplicate of the same category existed; it now has the new text. */
    UPDATED,
    /** The same text in the same category existed already; nothing was written. */
    UNCHANGED
  }
}
