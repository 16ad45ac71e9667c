package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.auth.AuthConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every {@code sh} example of {@code docs/api.md} top to bottom, as written, with bash,
 * curl and jq, against two real servers: an open one for {@code http://127.0.0.1:8080} and one
 * with authentication for {@code http://127.0.0.1:8081} (its API key in {@code YAAD_ADMIN_KEY}).
 * The response shown after an example must be what the server answered: the same status, and
 * the same JSON apart from values that differ from run to run (ids, times, cursors, tokens,
 * scores, counters). Blocks marked {@code sh norun} are for people only (starting a server).
 *
 * <p>After changing an example, {@code -Dyaad.apidoc.write=true} rewrites the responses in
 * the document from a real run; read the diff before committing it.
 */
class ApiDocTest {
  private static final Path DOC = Path.of("../docs/api.md").toAbsolutePath().normalize();
  private static final String KEY = "api-doc-test-admin-key-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Values that differ from run to run: compared by type only. */
  private static final Set<String> VOLATILE = Set.of("id", "createdAt", "updatedAt", "nextCursor", "token", "expiresAt",
      "score", "at", "uptimeSeconds", "count", "sumSeconds", "maxSeconds", "hit", "miss");

  /** One fenced block of the document: its info string, its text, and where it is. */
  record Block(String info, String text, int startLine, int endLine) {}

  @Test
  void everyExample_runsAsWritten_andAnswersAsShown(@TempDir Path dir) throws Exception {
    Process tools = new ProcessBuilder("bash", "-c", "command -v curl && command -v jq").start();
    if (tools.waitFor() != 0) {
      String why = "the examples need bash, curl and jq on the PATH (Debian: apt-get install -y curl jq)";
      if (System.getenv("CI") != null || System.getenv("YAAD_REQUIRE_SERVICES") != null) {
        throw new AssertionError(why);
      }
      System.out.println("SKIPPED: ApiDocTest: " + why);
      org.junit.jupiter.api.Assumptions.abort(why);
    }
    List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
    List<Block> blocks = blocks(lines);
    List<Integer> runnable = new ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i).info().equals("sh")) {
        runnable.add(i);
      }
    }
    assertThat(runnable).as("sh examples in " + DOC).hasSizeGreaterThan(10);

    try (YaadServer open = new YaadServer(YaadServer.Config.of(TestStores.h2(dir.resolve("open"))).withAddress("127.0.0.1", 0)).start();
        YaadServer auth = new YaadServer(YaadServer.Config.of(TestStores.h2(dir.resolve("auth"))).withAddress("127.0.0.1", 0)
            .withAuth(AuthConfig.of(KEY, null))).start()) {
      awaitReady(open);
      awaitReady(auth);
      StringBuilder script = new StringBuilder("set -eo pipefail\n")
          // Every curl also reports its answer's headers on standard error, for the comparison below.
          .append("curl() { command curl -sS -D /dev/stderr \"$@\"; }\n");
      for (int n = 0; n < runnable.size(); n++) {
        String text = blocks.get(runnable.get(n)).text()
            .replace("http://127.0.0.1:8080", "http://127.0.0.1:" + open.port())
            .replace("http://127.0.0.1:8081", "http://127.0.0.1:" + auth.port());
        script.append("echo; echo '@@block ").append(n).append("'; echo '@@block ").append(n).append("' >&2\n")
            .append(text).append('\n');
      }
      script.append("echo; echo '@@end'; echo '@@end' >&2\n");
      Path file = dir.resolve("api-examples.sh");
      Files.writeString(file, script);
      // Pipes, not files: curl reopens /dev/stderr, which would truncate a file.
      ProcessBuilder builder = new ProcessBuilder("bash", file.toString());
      builder.environment().put("YAAD_ADMIN_KEY", KEY);
      Process bash = builder.start();
      bash.getOutputStream().close();
      var outReader = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(bash.getInputStream()));
      var errReader = java.util.concurrent.CompletableFuture.supplyAsync(() -> readAll(bash.getErrorStream()));
      assertThat(bash.waitFor(120, TimeUnit.SECONDS)).as("the examples finish").isTrue();
      String out = outReader.get(10, TimeUnit.SECONDS);
      String err = errReader.get(10, TimeUnit.SECONDS);
      assertThat(bash.exitValue()).as("bash ran every example (set -e); stderr:\n" + err + "\nstdout:\n" + out).isZero();
      List<String> outs = split(out, runnable.size());
      List<String> errs = split(err, runnable.size());

      boolean write = Boolean.getBoolean("yaad.apidoc.write");
      List<String> problems = new ArrayList<>();
      List<String> rewritten = new ArrayList<>(lines);
      // Backwards, so replacing a response keeps the line numbers of earlier blocks valid.
      for (int n = runnable.size() - 1; n >= 0; n--) {
        int index = runnable.get(n);
        Block example = blocks.get(index);
        Block shown = index + 1 < blocks.size() ? blocks.get(index + 1) : null;
        if (shown == null || !shown.info().isEmpty() || !(shown.text().startsWith("HTTP/") || shown.text().startsWith("RESPONSE"))) {
          continue; // an example whose output is not shown
        }
        String actual = response(errs.get(n), outs.get(n));
        if (write) {
          List<String> replacement = new ArrayList<>(List.of(actual.split("\n", -1)));
          for (int l = shown.endLine() - 1; l > shown.startLine(); l--) {
            rewritten.remove(l);
          }
          rewritten.addAll(shown.startLine() + 1, replacement);
          continue;
        }
        String where = DOC.getFileName() + " line " + (example.startLine() + 1) + ": " + example.text().lines().reduce((a, b) -> b).orElse("");
        compare(where, shown.text(), actual, problems);
      }
      if (write) {
        Files.write(DOC, rewritten, StandardCharsets.UTF_8);
        System.out.println("ApiDocTest: rewrote the responses in " + DOC);
      }
      assertThat(problems).as("examples whose shown response is not what the server answered").isEmpty();
    }
  }

  private static String readAll(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void awaitReady(YaadServer server) throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var ready = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/ready")).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (http.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
      assertThat(System.nanoTime()).as("the server is ready within 60 s").isLessThan(deadline);
      Thread.sleep(50); // the embedding model loads in the background; /ready says when
    }
  }

  /** The fenced blocks of a Markdown document. */
  static List<Block> blocks(List<String> lines) {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("```")) {
        String info = lines.get(i).substring(3).strip();
        int end = i + 1;
        while (end < lines.size() && !lines.get(end).startsWith("```")) {
          end++;
        }
        blocks.add(new Block(info, String.join("\n", lines.subList(i + 1, end)), i, end));
        i = end;
      }
    }
    return blocks;
  }

  private static List<String> split(String text, int count) {
    List<String> parts = new ArrayList<>();
    for (int n = 0; n < count; n++) {
      String start = "@@block " + n + "\n";
      String end = n + 1 < count ? "@@block " + (n + 1) + "\n" : "@@end\n";
      int a = text.indexOf(start);
      int b = text.indexOf(end);
      parts.add(a < 0 || b < 0 ? "" : text.substring(a + start.length(), b));
    }
    return parts;
  }

  /** The last answer of an example, as the document shows one: status line, a few headers, blank line, body. */
  static String response(String headers, String stdout) {
    String last = headers.substring(Math.max(0, headers.lastIndexOf("HTTP/1.1 ")));
    List<String> head = new ArrayList<>();
    for (String line : last.split("\r?\n")) {
      if (line.isBlank()) {
        break;
      }
      String lower = line.toLowerCase(java.util.Locale.ROOT);
      if (line.startsWith("HTTP/") || lower.startsWith("content-type:") || lower.startsWith("location:")
          || lower.startsWith("www-authenticate:")) {
        head.add(line.strip());
      }
    }
    String body = stdout.strip();
    if (body.startsWith("HTTP/")) { // the example used curl -i
      int blank = body.indexOf("\n\r\n") >= 0 ? body.indexOf("\n\r\n") : body.indexOf("\n\n");
      body = blank < 0 ? "" : body.substring(blank).strip();
    }
    return String.join("\n", head) + (body.isEmpty() ? "" : "\n\n" + body);
  }

  private static void compare(String where, String shown, String actual, List<String> problems) throws IOException {
    String shownStatus = shown.lines().findFirst().orElse("");
    String actualStatus = actual.lines().findFirst().orElse("");
    if (!shownStatus.equals(actualStatus)) {
      problems.add(where + ": shows '" + shownStatus + "', the server answered '" + actualStatus + "'");
      return;
    }
    String shownBody = body(shown);
    String actualBody = body(actual);
    if (shownBody.startsWith("{") && actualBody.startsWith("{")) {
      List<String> differences = new ArrayList<>();
      same("$", JSON.readTree(shownBody), JSON.readTree(actualBody), false, differences);
      if (!differences.isEmpty()) {
        problems.add(where + ": the body differs: " + String.join("; ", differences) + "\n  actual: " + actualBody);
      }
    } else if (!shownBody.equals(actualBody)) {
      problems.add(where + ": shows body '" + shownBody + "', the server answered '" + actualBody + "'");
    }
  }

  private static String body(String response) {
    int blank = response.indexOf("\n\n");
    return blank < 0 ? "" : response.substring(blank).strip();
  }

  /** Same keys, array lengths and types everywhere; same values too, except the volatile ones. */
  private static void same(String path, JsonNode shown, JsonNode actual, boolean volatileValue, List<String> out) {
    if (shown.getNodeType() != actual.getNodeType()) {
      out.add(path + " is " + actual.getNodeType() + ", shown as " + shown.getNodeType());
      return;
    }
    if (shown.isObject()) {
      Set<String> a = new TreeSet<>();
      Set<String> b = new TreeSet<>();
      shown.fieldNames().forEachRemaining(a::add);
      actual.fieldNames().forEachRemaining(b::add);
      if (!a.equals(b)) {
        out.add(path + " has fields " + b + ", shown with " + a);
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = shown.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        same(path + "." + e.getKey(), e.getValue(), actual.get(e.getKey()), VOLATILE.contains(e.getKey()), out);
      }
    } else if (shown.isArray()) {
      if (shown.size() != actual.size()) {
        out.add(path + " has " + actual.size() + " elements, shown with " + shown.size());
        return;
      }
      for (int i = 0; i < shown.size(); i++) {
        same(path + "[" + i + "]", shown.get(i), actual.get(i), volatileValue, out);
      }
    } else if (!volatileValue && !shown.equals(actual)) {
      out.add(path + " is " + actual + ", shown as " + shown);
    }
  }
}
