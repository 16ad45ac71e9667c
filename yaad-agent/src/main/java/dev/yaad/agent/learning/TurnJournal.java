package dev.yaad.agent.learning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The turns a {@link TurnBuffer} holds, also appended to a local file, so that a crash of the
 * process (kill -9, out of memory) while the database is away does not lose them: the next
 * start replays them into the outbox. Each process writes a file of its own
 * ({@code turns-<id>.journal}) and holds a lock on {@code turns-<id>.lock} while it runs; at
 * start, a process takes over the files of processes that are gone (their lock is free). The
 * file is emptied whenever the buffer is, and rewritten with only the held turns when it has
 * grown much past them.
 *
 * <p>Not synced to disk per turn: the bytes are in the operating system once written, which a
 * crash of the process does not lose; a crash of the machine while the database is away can.
 * Not thread-safe: the {@link TurnBuffer} calls it under its lock.
 */
final class TurnJournal implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TurnJournal.class);
  /** The file is rewritten once it is this big and at least {@value #COMPACT_FACTOR} times the held turns. */
  static final long COMPACT_BYTES = 8L << 20;
  private static final int COMPACT_FACTOR = 4;

  private final Path journal;
  private final Path lockFile;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private FileChannel out;
  private long bytes;
  private boolean failing;

  private TurnJournal(Path dir) throws IOException {
    String id = UUID.randomUUID().toString();
    this.journal = dir.resolve("turns-" + id + ".journal");
    this.lockFile = dir.resolve("turns-" + id + ".lock");
    this.lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    this.lock = lockChannel.lock();
    this.out = appending(journal);
  }

  /**
   * Opens a journal of this process's own in {@code dir} (created if missing).
   *
   * @throws UncheckedIOException if the directory cannot be written
   */
  static TurnJournal open(Path dir) {
    try {
      Files.createDirectories(dir);
      return new TurnJournal(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the turn journal in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Takes over the journals of processes that are gone: their turns, oldest first, appended to
   * this journal before their files are deleted (a crash meanwhile keeps them in one or the other).
   */
  List<TurnBuffer.Turn> recover() {
    List<TurnBuffer.Turn> turns = new ArrayList<>();
    try (DirectoryStream<Path> locks = Files.newDirectoryStream(journal.getParent(), "turns-*.lock")) {
      for (Path other : locks) {
        if (!other.equals(lockFile)) {
          turns.addAll(takeOver(other));
        }
      }
    } catch (IOException e) {
      log.warn("learner: cannot read the turn journals in {}: {}", journal.getParent(), e.getMessage());
    }
    return turns;
  }

  private List<TurnBuffer.Turn> takeOver(Path otherLock) throws IOException {
    String name = otherLock.getFileName().toString();
    Path otherJournal = otherLock.resolveSibling(name.substring(0, name.length() - ".lock".length()) + ".journal");
    try (FileChannel channel = FileChannel.open(otherLock, StandardOpenOption.WRITE)) {
      FileLock theirs;
      try {
        theirs = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        return List.of(); // this process's own (another learner in this JVM)
      }
      if (theirs == null) {
        return List.of(); // a live process
      }
      List<TurnBuffer.Turn> turns = Files.exists(otherJournal) ? read(otherJournal) : List.of();
      for (TurnBuffer.Turn t : turns) {
        append(t);
      }
      out.force(false);
      Files.deleteIfExists(otherJournal);
      Files.deleteIfExists(otherJournal.resolveSibling(otherJournal.getFileName() + ".next")); // a rewrite cut short
      Files.deleteIfExists(otherLock);
      if (!turns.isEmpty()) {
        log.info("learner: {} turn(s) held by a process that stopped without writing them ({}) are written to the outbox now",
            turns.size(), otherJournal.getFileName());
      }
      return turns;
    } catch (java.nio.file.NoSuchFileException e) {
      return List.of(); // another process took it over first
    }
  }

  private static List<TurnBuffer.Turn> read(Path file) throws IOException {
    List<TurnBuffer.Turn> turns = new ArrayList<>();
    int torn = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode n = Outbox.JSON.readTree(line);
        turns.add(new TurnBuffer.Turn(n.get("user").asText(), n.path("session").textValue(),
            n.get("payload").asText(), n.get("at").asLong(), n.path("key").textValue()));
      } catch (IOException | RuntimeException e) {
        torn++; // a line cut short by the crash
      }
    }
    if (torn > 0) {
      log.warn("learner: {} unreadable line(s) in {} skipped", torn, file.getFileName());
    }
    return turns;
  }

  /** Appends a turn the buffer took. A failing disk is logged once; the turn is then held in memory only. */
  void append(TurnBuffer.Turn turn) {
    ObjectNode n = Outbox.JSON.createObjectNode();
    n.put("user", turn.userId());
    n.put("session", turn.sessionId());
    n.put("payload", turn.payload());
    n.put("at", turn.acceptedAt());
    n.put("key", turn.key());
    ByteBuffer line = ByteBuffer.wrap((n + "\n").getBytes(StandardCharsets.UTF_8));
    try {
      while (line.hasRemaining()) {
        bytes += out.write(line);
      }
      if (failing) {
        failing = false;
        log.info("learner: the turn journal {} can be written again", journal);
      }
    } catch (IOException e) {
      if (!failing) {
        failing = true;
        log.warn("learner: cannot append to the turn journal {} ({}); held turns are in memory only until it can", journal,
            e.getMessage());
      }
    }
  }

  /** Every held turn is in the database: the journal is emptied. */
  void clear() {
    if (bytes == 0) {
      return;
    }
    try {
      out.truncate(0);
      bytes = 0;
    } catch (IOException e) {
      log.warn("learner: cannot empty the turn journal {}: {}", journal, e.getMessage());
    }
  }

  /**
   * Some turns are in the database, {@code held} (of {@code heldBytes} in memory) are not: if the
   * file has grown far past them, it is replaced by one of the held turns only.
   */
  void written(Iterable<TurnBuffer.Turn> held, long heldBytes) {
    if (bytes < COMPACT_BYTES || bytes < COMPACT_FACTOR * heldBytes) {
      return;
    }
    Path next = journal.resolveSibling(journal.getFileName() + ".next");
    FileChannel old = out;
    try {
      out = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
      bytes = 0;
      for (TurnBuffer.Turn t : held) {
        append(t);
      }
      out.force(false);
      Files.move(next, journal, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      old.close();
    } catch (IOException e) {
      log.warn("learner: cannot rewrite the turn journal {}: {}", journal, e.getMessage());
    }
  }

  /** Bytes in the file. */
  long bytes() {
    return bytes;
  }

  /** Releases the lock; the files are deleted if no turn is left in them (else the next start writes them). */
  @Override
  public void close() {
    try {
      out.close();
      if (bytes == 0) {
        Files.deleteIfExists(journal);
      }
      lock.release();
      lockChannel.close();
      if (bytes == 0) {
        Files.deleteIfExists(lockFile);
      }
    } catch (IOException e) {
      log.warn("learner: closing the turn journal {}: {}", journal, e.getMessage());
    }
  }

  private static FileChannel appending(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }
}
