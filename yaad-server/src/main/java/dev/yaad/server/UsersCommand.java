package dev.yaad.server;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.server.cluster.ClusterEvents;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code yaad users export|import|delete}: a user's data in and out of the store, for operators. */
@Command(name = "users", usageHelpAutoWidth = true,
    subcommands = {UsersCommand.Export.class, UsersCommand.Import.class, UsersCommand.Delete.class},
    description = {"Exports, imports and deletes users' memories and profiles, straight in the database.",
        "With PostgreSQL the server may keep running. The embedded H2 file opens in one process at a time: stop 'yaad serve' first."})
final class UsersCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing command: try 'yaad users export|import|delete' or 'yaad users --help'");
  }

  /** Runs {@code work} on the memories the options describe; store failures become "yaad: ..." and exit 1. */
  static int withStore(CommandSpec spec, DatabaseOptions database, EmbeddingOptions embedding, StoreWork work) {
    var builder = Memories.builder().store(database.storeConfig());
    if (embedding != null) {
      builder.embedder(embedding.embedder());
    }
    try (Memories memories = builder.build()) {
      return work.run(memories);
    } catch (MemoryException | IOException e) {
      spec.commandLine().getErr().println("yaad: " + e.getMessage());
      return 1;
    }
  }

  @FunctionalInterface
  interface StoreWork {
    int run(Memories memories) throws IOException;
  }

  @Command(name = "export", usageHelpAutoWidth = true, sortOptions = false,
      description = "Writes one user's profile and memories as JSONL: one line for the profile (if any), then one per memory,"
          + " oldest first. 'yaad users import' reads it back.")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "USER_ID", description = "The user to export.")
    String userId;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write to this file instead of standard output.")
    Path out;

    @Mixin DatabaseOptions database;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
      return withStore(spec, database, null, store -> {
        Profile profile = store.profile(userId); // NotFoundException for an unknown user, before any output
        List<Memory> memories = new ArrayList<>();
        String cursor = null;
        do {
          Page<Memory> page = store.list(userId, null, Limits.MAX_PAGE_SIZE, cursor);
          memories.addAll(page.items());
          cursor = page.nextCursor();
        } while (cursor != null);
        Collections.reverse(memories); // oldest first, so an import keeps the order
        try (Writer writer = out == null ? new NonClosing(spec.commandLine().getOut())
            : Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
          if (profile.exists()) {
            writer.write(UserFile.line(profile));
            writer.write('\n');
          }
          for (Memory memory : memories) {
            writer.write(UserFile.line(memory));
            writer.write('\n');
          }
        }
        if (out != null) {
          spec.commandLine().getErr().println("yaad: exported user '" + userId + "' (" + memories.size() + " memories"
              + (profile.exists() ? " and the profile" : "") + ") to " + out);
        }
        return 0;
      });
    }
  }

  @Command(name = "import", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Reads a JSONL file written by 'yaad users export' (one or more users) and adds its memories and"
          + " profiles. The whole file is checked first; then each user's memories are stored in one transaction (all or"
          + " none, at most " + Limits.MAX_BATCH_SIZE + " per user), and the profile replaced.",
          "Memories get new ids and times: importing a file twice adds its memories twice. With --exact, each user is"
              + " restored as exported (ids, times, profile version) into a fresh user: export, then import --exact, is a"
              + " faithful backup."})
  static final class Import implements Callable<Integer> {
    private static final Pattern ELEMENT = Pattern.compile("^memories\\[(\\d+)]\\.?(.*)$", Pattern.DOTALL);

    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The JSONL file ('-' for standard input).")
    String file;

    @Option(names = "--exact", description = {"Restore each user exactly as exported: the memories' ids and times and the"
        + " profile's version and time. The user must not exist yet (delete it first); all of a user or nothing."})
    boolean exact;

    @Mixin DatabaseOptions database;
    @Mixin EmbeddingOptions embedding;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /** One user's lines, in file order. */
    record UserLines(List<UserFile.MemoryLine> memories, List<UserFile.ProfileLine> profiles) {}

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      Map<String, UserLines> users;
      try {
        users = read();
      } catch (UserFile.BadLine e) {
        err.println("yaad: " + source() + " " + e.getMessage() + "; nothing was imported");
        return 1;
      } catch (IOException e) {
        err.println("yaad: cannot read " + source() + ": " + e.getMessage());
        return 1;
      }
      for (Map.Entry<String, UserLines> user : users.entrySet()) {
        int count = user.getValue().memories().size();
        if (count > Limits.MAX_BATCH_SIZE) {
          err.println("yaad: " + source() + " has " + count + " memories of user '" + user.getKey() + "'; one import"
              + " stores at most " + Limits.MAX_BATCH_SIZE + " per user (in one transaction): split the file; nothing was imported");
          return 1;
        }
      }
      return withStore(spec, database, embedding, store -> {
        int failed = 0;
        for (Map.Entry<String, UserLines> user : users.entrySet()) {
          try {
            if (exact) {
              restoreUser(store, user.getKey(), user.getValue());
            } else {
              importUser(store, user.getKey(), user.getValue());
            }
          } catch (UserFile.BadLine e) {
            failed++;
            err.println("yaad: user '" + user.getKey() + "' was not imported: " + e.getMessage());
          } catch (MemoryException e) {
            failed++;
            err.println("yaad: user '" + user.getKey() + "' was not imported: " + describe(e, user.getValue()));
          }
        }
        return failed == 0 ? 0 : 1;
      });
    }

    private void importUser(Memories store, String userId, UserLines lines) {
      List<UserFile.MemoryLine> memories = lines.memories();
      if (!memories.isEmpty()) {
        // With their vectors; stored as given, not de-duplicated.
        store.addAll(userId, memories.stream().map(UserFile.MemoryLine::memory).toList(), false);
      }
      String profile = null;
      for (UserFile.ProfileLine line : lines.profiles()) {
        profile = line.content(); // the last one wins
      }
      if (profile != null) {
        store.putProfile(userId, profile, null);
      }
      spec.commandLine().getOut().println("imported user '" + userId + "': " + memories.size() + " memories"
          + (profile != null ? " and the profile" : ""));
    }

    /** {@code --exact}: the user as exported, ids and times included, with vectors from the configured model. */
    private void restoreUser(Memories store, String userId, UserLines lines) {
      List<Memory> memories = lines.memories().stream().map(UserFile.MemoryLine::exact).toList();
      Profile profile = lines.profiles().isEmpty() ? null : lines.profiles().getLast().exact(); // the last one wins
      store.restore(userId, memories, profile);
      spec.commandLine().getOut().println("restored user '" + userId + "' exactly: " + memories.size() + " memories"
          + (profile != null ? " and the profile (version " + profile.version() + ")" : ""));
    }

    /** Points a store error about {@code memories[i]} at the line it came from. */
    private String describe(MemoryException e, UserLines lines) {
      if (e instanceof InvalidInputException) {
        Matcher m = ELEMENT.matcher(e.getMessage());
        if (m.matches()) {
          int index = Integer.parseInt(m.group(1));
          if (index < lines.memories().size()) {
            return "line " + lines.memories().get(index).number() + ": " + m.group(2);
          }
        }
      }
      if (e instanceof NotFoundException) {
        return e.getMessage();
      }
      return e.getMessage();
    }

    private String source() {
      return file.equals("-") ? "standard input" : file;
    }

    private Map<String, UserLines> read() throws IOException {
      Map<String, UserLines> users = new LinkedHashMap<>();
      try (BufferedReader reader = file.equals("-")
          ? new BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
          : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
        String text;
        int number = 0;
        while ((text = reader.readLine()) != null) {
          number++;
          if (text.isBlank()) {
            continue;
          }
          UserFile.Line line = UserFile.parse(number, text);
          UserLines lines = users.computeIfAbsent(line.userId(), id -> new UserLines(new ArrayList<>(), new ArrayList<>()));
          switch (line) {
            case UserFile.MemoryLine memory -> lines.memories().add(memory);
            case UserFile.ProfileLine profile -> lines.profiles().add(profile);
          }
        }
        if (users.isEmpty()) {
          throw new UserFile.BadLine(number, "the file holds no memory or profile line");
        }
      }
      return users;
    }
  }

  /** How long {@code users delete} waits for Redis before deleting without telling the servers. */
  static final java.time.Duration REDIS_WAIT = java.time.Duration.ofSeconds(3);

  @Command(name = "delete", usageHelpAutoWidth = true, sortOptions = false,
      description = "Deletes a user with all their memories and their profile. There is no undo: export first.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "USER_ID", description = "The user to delete.")
    String userId;

    @Mixin DatabaseOptions database;

    @Option(names = "--redis-url", paramLabel = "URL",
        description = {"The servers' Redis: they are told, and close the user's open sessions. Env YAAD_REDIS_URL.",
            "Default: none (everything is deleted all the same; open sessions stay open but can no longer write for the user)."})
    String redisUrl;

    @Option(names = "--redis-key-prefix", defaultValue = CacheConfig.DEFAULT_REDIS_KEY_PREFIX, paramLabel = "PREFIX",
        description = "The servers' Redis key prefix. Env YAAD_REDIS_KEY_PREFIX. Default: ${DEFAULT-VALUE}.")
    String redisKeyPrefix;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
      return withStore(spec, database, null, store -> {
        boolean told = false;
        try (ClusterEvents events = redisUrl == null ? ClusterEvents.local()
            : ClusterEvents.redis(redisUrl, CacheConfig.defaults().withRedisUrl(redisUrl).safeRedisUrl(), redisKeyPrefix)) {
          if (redisUrl != null) {
            told = events.awaitConnected(REDIS_WAIT);
            if (!told) {
              spec.commandLine().getErr().println("warning: redis at " + CacheConfig.defaults().withRedisUrl(redisUrl).safeRedisUrl()
                  + " did not answer within " + REDIS_WAIT.toSeconds() + " s: running servers are not told, and their open"
                  + " sessions of this user stay open (unable to write for the user)");
            }
          }
          events.deleteUser(store, userId);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while connecting to redis", e);
        }
        spec.commandLine().getOut().println("deleted user '" + userId + "' with all their memories, their profile and their"
            + " turns waiting to be learned" + (told ? "; running servers closed their sessions" : ""));
        return 0;
      });
    }
  }

  /** Lets try-with-resources flush picocli's writer without closing it. */
  private static final class NonClosing extends Writer {
    private final PrintWriter out;

    NonClosing(PrintWriter out) {
      this.out = out;
    }

    @Override
    public void write(char[] buf, int off, int len) {
      out.write(buf, off, len);
    }

    @Override
    public void flush() {
      out.flush();
    }

    @Override
    public void close() {
      out.flush();
    }
  }
}
