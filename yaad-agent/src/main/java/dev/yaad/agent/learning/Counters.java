package dev.yaad.agent.learning;

import java.util.concurrent.atomic.AtomicLong;

/** What learning has done since start, as {@link Learner.Stats} reports it. */
final class Counters {
  final AtomicLong turnsAccepted = new AtomicLong();
  final AtomicLong turnsExtracted = new AtomicLong();
  final AtomicLong turnsUnparseable = new AtomicLong();
  final AtomicLong extractionCalls = new AtomicLong();
  final AtomicLong profileCalls = new AtomicLong();
  final AtomicLong profilesSaved = new AtomicLong();
  final AtomicLong profilesUnchanged = new AtomicLong();
  final AtomicLong memoriesChanged = new AtomicLong();
  final AtomicLong failures = new AtomicLong();
  final AtomicLong refreshesDeferred = new AtomicLong();

  Learner.Stats snapshot() {
    return new Learner.Stats(turnsAccepted.get(), turnsExtracted.get(), turnsUnparseable.get(), extractionCalls.get(),
        profileCalls.get(), profilesSaved.get(), profilesUnchanged.get(), memoriesChanged.get(), failures.get(),
        refreshesDeferred.get());
  }
}
