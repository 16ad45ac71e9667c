package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.SessionListener;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.ScriptedLlmServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Documentation that cannot drift: every example in Javadoc ({@code {@snippet :}}) and in the
 * Markdown ({@code ```java}) is a region of {@link Snippets}, which compiles with the build,
 * and the regions that can run do run here.
 */
class SnippetsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Pattern REGION = Pattern.compile("(?s)// @start region=\"([\\w-]+)\"\\n(.*?)\\n\\s*// @end");
  static final Pattern JAVADOC_SNIPPET = Pattern.compile("(?s)\\{@snippet :\\n(.*?)\\n\\s*\\* }");
  static final Pattern MARKDOWN_JAVA = Pattern.compile("(?s)```java\\n(.*?)\\n```");

  @TempDir Path dir;

  @Test
  void everyDocumentedExample_isACompiledRegionOfSnippets() throws IOException {
    Map<String, List<String>> regions = regions();
    List<String> unmatched = new ArrayList<>();
    int checked = 0;
    for (Path source : sources()) {
      Matcher m = JAVADOC_SNIPPET.matcher(Files.readString(source));
      while (m.find()) {
        checked++;
        List<String> lines = normalize(m.group(1).lines().map(l -> l.replaceFirst("^\\s*\\*", "")).toList());
        if (!regions.containsValue(lines)) {
          unmatched.add(ROOT.relativize(source) + ":\n" + String.join("\n", lines));
        }
      }
    }
    for (Path doc : documents()) {
      Matcher m = MARKDOWN_JAVA.matcher(Files.readString(doc));
      while (m.find()) {
        checked++;
        List<String> lines = normalize(m.group(1).lines().toList());
        if (!regions.containsValue(lines)) {
          unmatched.add(ROOT.relativize(doc) + ":\n" + String.join("\n", lines));
        }
      }
    }
    assertThat(checked).as("examples found").isGreaterThanOrEqualTo(8);
    assertThat(unmatched).as("examples that are not a region of Snippets.java (copy them there, or fix them)").isEmpty();
  }

  @Test
  void theExamples_runAndDoWhatTheySay() throws Exception {
    Snippets.memories(dir.resolve("memories"));
    Snippets.cache(TestStores.h2(dir.resolve("cache")), new SimpleMeterRegistry(), "someone-new");
    Snippets.server(dir.resolve("server"));
    Snippets.rate();
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()) {
      Snippets.agent("jdbc:h2:file:" + dir.resolve("agent/yaad"), Map.of("YAAD_LLM_BASE_URL", llm.baseUrl()),
          new SessionListener() {});
      try (Memories memories = Memories.builder().store(TestStores.h2(dir.resolve("api"))).build();
          Llm client = Llm.openAiCompatible(LlmConfig.of(llm.baseUrl(), null, "scripted"))) {
        Snippets.memoryApi(memories, 0);
        Snippets.meters(new SimpleMeterRegistry(), memories, client);
      }
      assertThat(llm.calls(ScriptedLlmServer.Purpose.EXTRACT)).isNotEmpty(); // the agent example learned from its turn
    }
  }

  @Test
  void everyMeterTheDocsName_isOneTheCodeRegisters() throws IOException {
    // Builders, and helpers that take the name after the registry (yaad-voice's timer(registry, "yaad.voice.stt", ...)).
    Pattern registered = Pattern.compile("(?:Timer|Counter|Gauge|DistributionSummary)\\.builder\\(\"([a-z0-9_.]+)\""
        + "|(?:counter|gauge|timer)\\((?:registry, )?\"([a-z0-9_.]+)\"");
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Path source : sources()) {
      Matcher m = registered.matcher(Files.readString(source));
      while (m.find()) {
        names.add(m.group(1) != null ? m.group(1) : m.group(2));
      }
    }
    assertThat(names).contains("yaad.cache.gets", "yaad.memory.snapshot", "yaad.agent.tool");
    // Prometheus spells them with underscores and a unit or _total suffix.
    java.util.Set<String> known = new java.util.HashSet<>(names);
    for (String name : names) {
      String base = name.replace('.', '_');
      known.addAll(List.of(base, base + "_total", base + "_seconds"));
    }
    Pattern documented = Pattern.compile("`(yaad[._][a-z0-9_.]*[a-z0-9])[`{]");
    List<String> unknown = new ArrayList<>();
    for (Path doc : documents()) {
      Matcher m = documented.matcher(Files.readString(doc));
      while (m.find()) {
        String name = m.group(1);
        boolean prefix = name.endsWith("_") || names.stream().anyMatch(n -> n.startsWith(name + "."));
        if (!known.contains(name) && !prefix && !name.startsWith("yaad_bench") && !name.startsWith("yaad_test")) {
          unknown.add(ROOT.relativize(doc) + ": " + name);
        }
      }
    }
    assertThat(unknown).as("meters named in the docs that no code registers").isEmpty();
  }

  /** Region name → its lines, from Snippets.java. */
  static Map<String, List<String>> regions() throws IOException {
    String text = Files.readString(ROOT.resolve("yaad-server/src/test/java/dev/yaad/server/Snippets.java"));
    Map<String, List<String>> regions = new LinkedHashMap<>();
    Matcher m = REGION.matcher(text);
    while (m.find()) {
      regions.put(m.group(1), normalize(m.group(2).lines().toList()));
    }
    return regions;
  }

  /** Lines without their indentation and trailing spaces; blank lines dropped. */
  static List<String> normalize(List<String> lines) {
    return lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  static List<Path> sources() throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> modules = Files.list(ROOT)) {
      for (Path module : modules.filter(p -> p.getFileName().toString().startsWith("yaad-")).toList()) {
        Path main = module.resolve("src/main/java");
        if (Files.isDirectory(main)) {
          try (Stream<Path> files = Files.walk(main)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(out::add);
          }
        }
      }
    }
    return out;
  }

  static List<Path> documents() {
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      List<Path> out = new ArrayList<>(docs.filter(p -> p.toString().endsWith(".md")).toList());
      out.add(ROOT.resolve("README.md"));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
