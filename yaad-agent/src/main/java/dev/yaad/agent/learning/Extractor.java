package dev.yaad.agent.learning;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.yaad.agent.AgentMetrics;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.Prompts;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.UserDeletedException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Memory extraction: one LLM call over a batch of turns (JSON: category, content, operation),
 * each operation applied through the memory port's de-duplicating {@code save} (or a search
 * and {@code forget} for a deletion). Only then are the turns deleted from the outbox, so a
 * crash repeats an extraction (harmless: saving the same memory again is {@code UNCHANGED})
 * and never loses one. A model that keeps answering something unparseable is given up on
 * after {@value #MAX_PARSE_FAILURES} attempts. What changed is announced, and asks for a
 * profile refresh.
 */
final class Extractor {
  private static final Logger log = LoggerFactory.getLogger(Extractor.class);
  static final int MAX_PARSE_FAILURES = 3;

  private final MemoryAccess memory;
  private final Llm llm;
  private final LlmPermits permits;
  private final Outbox outbox;
  private final Retries retries;
  private final Counters counters;
  private final AgentMetrics metrics;
  private final ProfileRefresher profiles;
  private final Consumer<Learned> announce;

  Extractor(MemoryAccess memory, Llm llm, LlmPermits permits, Outbox outbox, Retries retries, Counters counters, AgentMetrics metrics,
      ProfileRefresher profiles, Consumer<Learned> announce) {
    this.memory = memory;
    this.llm = llm;
    this.permits = permits;
    this.outbox = outbox;
    this.retries = retries;
    this.counters = counters;
    this.metrics = metrics;
    this.profiles = profiles;
    this.announce = announce;
  }

  /** One extraction call over {@code turns}; true if they are done (stored or given up as unparseable). */
  boolean extract(String userId, List<Outbox.Row> turns) {
    StringBuilder transcript = new StringBuilder();
    for (Outbox.Row r : turns) {
      JsonNode t = Outbox.readJson(r.payload());
      transcript.append("USER: ").append(t.path("user").asText().replace('\n', ' ')).append('\n');
      String said = t.path("assistant").asText();
      if (!said.isBlank()) {
        transcript.append("ASSISTANT: ").append(said.replace('\n', ' ')).append('\n');
      }
    }
    ChatRequest request = ChatRequest.builder()
        .messages(SystemMessage.from(Prompts.extraction(memory.categories().names())), UserMessage.from(transcript.toString()))
        .responseFormat(ResponseFormat.JSON)
        .build();
    String answer;
    long start = System.nanoTime();
    try {
      counters.extractionCalls.incrementAndGet();
      answer = permits.call(() -> llm.chat(request)).aiMessage().text();
      metrics.llmCall("extract", Duration.ofNanos(System.nanoTime() - start), true);
    } catch (RuntimeException e) {
      metrics.llmCall("extract", Duration.ofNanos(System.nanoTime() - start), false);
      return retries.failed(userId, turns, "extraction LLM call", e);
    }
    List<JsonNode> operations;
    try {
      operations = parseOperations(answer);
    } catch (IllegalArgumentException e) {
      int attempts = turns.stream().mapToInt(Outbox.Row::attempts).max().orElse(0);
      if (attempts + 1 >= MAX_PARSE_FAILURES) {
        // The model keeps answering something that is not the JSON asked for: retrying will not help.
        log.warn("learner: giving up on {} turns of user {} after {} unparseable extractions: {}",
            turns.size(), userId, attempts + 1, e.getMessage());
        counters.turnsUnparseable.addAndGet(turns.size());
        outbox.delete(turns);
        metrics.learning("extraction.unparseable");
        return true;
      }
      return retries.failed(userId, turns, "extraction output", e);
    }
    List<Memory> added = new ArrayList<>();
    List<Memory> updated = new ArrayList<>();
    List<UUID> deleted = new ArrayList<>();
    // The earliest turn's queue time: if the user was deleted since, nothing of the batch is written.
    Instant begunAt = Instant.ofEpochMilli(turns.stream().mapToLong(Outbox.Row::createdAt).min().orElse(0));
    try {
      // Saves between deletions are written as one batch: one embedding call, one transaction.
      List<NewMemory> saves = new ArrayList<>();
      for (JsonNode op : operations) {
        String content = op.path("content").asText("").strip();
        if (content.isEmpty()) {
          continue;
        }
        if (op.path("operation").asText("ADD").toUpperCase(Locale.ROOT).equals("DELETE")) {
          save(userId, saves, begunAt, added, updated);
          delete(userId, content, deleted);
        } else {
          saves.add(NewMemory.of(op.path("category").asText("FACT"), content));
        }
      }
      save(userId, saves, begunAt, added, updated);
      outbox.delete(turns);
    } catch (MemoryException e) {
      // Memories saved before the failure are saved again on retry and come back UNCHANGED.
      return retries.failed(userId, turns, "storing extracted memories", e);
    }
    int changed = added.size() + updated.size() + deleted.size();
    if (changed > 0) {
      announce.accept(new Learned(userId, List.copyOf(added), List.copyOf(updated), List.copyOf(deleted), null));
    }
    counters.turnsExtracted.addAndGet(turns.size());
    counters.memoriesChanged.addAndGet(changed);
    metrics.learning("extraction.ok");
    log.debug("learner: user {}: {} turns -> {} operations, {} memories changed", userId, turns.size(), operations.size(), changed);
    if (changed > 0) {
      profiles.request(userId, changed + " memories changed by extraction", changed);
    }
    return true;
  }

  /**
   * Stores the waiting saves (and empties the list), noting what changed; an invalid memory is
   * skipped. Nothing is written if the user was deleted at or after {@code begunAt}.
   */
  private void save(String userId, List<NewMemory> saves, Instant begunAt, List<Memory> added, List<Memory> updated) {
    for (int from = 0; from < saves.size(); from += Limits.MAX_BATCH_SIZE) {
      List<NewMemory> batch = List.copyOf(saves.subList(from, Math.min(saves.size(), from + Limits.MAX_BATCH_SIZE)));
      List<MemoryAccess.Saved> results = new ArrayList<>();
      try {
        results.addAll(memory.saveAll(userId, batch, begunAt));
      } catch (UserDeletedException e) {
        // Deleted after the turns were queued: nothing of theirs is kept (the turns go too).
        log.debug("learner: user {} was deleted after these turns were queued; {} memories not stored", userId, batch.size());
      } catch (MemoryException e) {
        if (e.isRetriable()) {
          throw e;
        }
        for (NewMemory m : batch) { // one is invalid: keep the others
          skippingInvalid(userId, () -> results.add(memory.save(userId, m.category(), m.content(), begunAt)));
        }
      }
      for (MemoryAccess.Saved saved : results) {
        switch (saved.outcome()) {
          case ADDED -> added.add(saved.memory());
          case UPDATED -> updated.add(saved.memory());
          case UNCHANGED -> { }
        }
      }
    }
    saves.clear();
  }

  /**
   * Forgets the one memory {@code content} clearly names: the same rule as the forgetMemory
   * tool. None or several: nothing is forgotten.
   */
  private void delete(String userId, String content, List<UUID> deleted) {
    skippingInvalid(userId, () -> {
      List<Memory> match = memory.matchToForget(userId, content);
      if (match.size() == 1 && memory.forget(userId, match.getFirst().id()).isPresent()) {
        deleted.add(match.getFirst().id());
      } else if (match.size() != 1) {
        log.debug("learner: user {}: an extracted deletion matches {} memories; nothing deleted", userId, match.size());
      }
    });
  }

  /** Runs {@code step}; an extracted operation the memory engine refuses as invalid is skipped. */
  private static void skippingInvalid(String userId, Runnable step) {
    try {
      step.run();
    } catch (MemoryException e) {
      if (e.isRetriable()) {
        throw e;
      }
      log.debug("learner: skipping an invalid extracted memory for user {}: {}", userId, e.getMessage());
    }
  }

  static List<JsonNode> parseOperations(String answer) {
    if (answer == null) {
      throw new IllegalArgumentException("empty answer");
    }
    String text = answer.strip();
    int open = text.indexOf('{');
    int close = text.lastIndexOf('}');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("no JSON object in: " + Outbox.abbreviate(text));
    }
    JsonNode root = Outbox.readJson(text.substring(open, close + 1));
    JsonNode list = root.path("memories");
    if (!list.isArray()) {
      throw new IllegalArgumentException("no \"memories\" array in: " + Outbox.abbreviate(text));
    }
    List<JsonNode> ops = new ArrayList<>();
    list.forEach(ops::add);
    return ops;
  }
}
