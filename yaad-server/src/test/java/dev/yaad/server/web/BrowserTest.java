package dev.yaad.server.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.http.SessionApi;
import dev.yaad.testing.SpokenFixtures;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.webrtc.WebRtcConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The companion page in a real browser: Debian's headless Chromium driven by npm
 * {@code playwright-core} ({@code src/test/browser/test.mjs}) against a server started here.
 * Installs playwright-core with {@code npm ci} from the project's own lock file when it is
 * missing. Without Chromium or Node.js the test is skipped with a visible {@code SKIPPED:}
 * line, unless CI or {@code YAAD_REQUIRE_SERVICES} is set, in which case it fails.
 *
 * <p>Each test method starts one server setup and runs the whole script against it; the
 * script picks the scenarios that apply from {@code GET /api/v1/config}: the memory-only
 * scenarios on a server without an LLM, the chat scenarios on a server whose LLM is the
 * scripted one.
 */
class BrowserTest {
  private static final Path SCRIPTS = Path.of("src/test/browser").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target/browser").toAbsolutePath();
  private static final long SCRIPT_TIMEOUT_SECONDS = 180;
  private static final String API_KEY = "browser-test-admin-key-0123456789";

  private static String chromium;

  @BeforeAll
  static void findTools() throws Exception {
    chromium = findChromium();
    String notInstallable = System.getenv("YAAD_CHROMIUM_NOT_INSTALLABLE");
    if (chromium == null && notInstallable != null) {
      // .ci/run tried to install it and could not: the one case where CI may skip this test.
      System.out.println("SKIPPED: BrowserTest: Chromium could not be installed here: " + notInstallable);
      Assumptions.abort("Chromium could not be installed: " + notInstallable);
    }
    if (chromium == null) {
      skipOrFail("no Chromium (looked at $YAAD_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser); install Debian's: apt-get install -y chromium");
    }
    if (run(List.of("node", "--version"), SCRIPTS, 30).exit != 0) {
      skipOrFail("no Node.js on the PATH ('node --version' failed)");
    }
    if (!Files.isDirectory(SCRIPTS.resolve("node_modules/playwright-core"))) {
      Result npm = run(List.of("npm", "ci", "--no-audit", "--no-fund"), SCRIPTS, 300);
      if (npm.exit != 0) {
        skipOrFail("'npm ci' in " + SCRIPTS + " failed (exit " + npm.exit + "):\n" + npm.output);
      }
    }
    Files.createDirectories(SCREENSHOTS);
  }

  @Test
  void companionPage_onAMemoryOnlyServer() throws Exception {
    Path dir = Files.createTempDirectory("yaad-browser");
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0);
    try (YaadServer server = new YaadServer(config).start()) {
      Result result = runScript(server.port(), Map.of());
      assertThat(result.output).contains("browser: ok   the memory panel shows memories added over the REST API",
          "browser: ok   the memory panel draws the newest snapshot and keeps a new memory marked",
          "browser: ok   without an LLM the page says exactly what to set", "browser: ok   Urdu renders right to left",
          "browser: ok   forgetting a memory removes it", "browser: ok   a new user's first visit raises no error and no 404",
          "browser: ok   the interface follows the chosen language, Urdu or English",
          "browser: ok   on a phone, long configuration names wrap and the push-to-talk hint fits",
          "browser: ok   the operator page charts what the server measures",
          "browser: ok   /docs shows the whole API in Swagger UI, from the jar");
      assertThat(SCREENSHOTS.resolve("companion.png")).isNotEmptyFile();
      assertThat(SCREENSHOTS.resolve("companion-phone.png")).isNotEmptyFile();
    }
  }

  /**
   * The chat: the real server with its session endpoint and agent runtime, the scripted LLM
   * server (real HTTP on loopback) as its LLM, and authentication on, so the page gets a
   * session token through {@code ?token=}. The scripted model looks in memory (a tool chip)
   * and then echoes the user; learning takes every turn at once (a batch of one), so the
   * panel updates while the page watches.
   */
  @Test
  void companionPage_withSessionsAndAuth() throws Exception {
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()
        // A turn that says "LLM down" fails as a provider outage would (HTTP 503, through the client's retries).
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().contains("LLM down"), c -> Answer.error(503))
        // Saved in other words than the user's, so that only the tool (not extraction) can have stored it.
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().contains("remember that"),
            c -> Answer.toolCall("saveMemory", "{\"category\":\"PREFERENCE\",\"content\":\"Drinks cardamom chai every evening\"}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults(),
            c -> Answer.toolCall("searchMemories", "{\"query\":\"" + c.lastUserMessage().replace("\"", "") + "\"}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("I will remember that: " + c.lastUserMessage()))) {
      YaadServer.Config config = YaadServer.Config.of(TestStores.h2(Files.createTempDirectory("yaad-browser")))
          .withAddress("127.0.0.1", 0)
          .withAuth(AuthConfig.of(API_KEY, "browser-test-secret-0123456789-0123456789"))
          .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null));
      YaadServer.AgentTuning tuning = new YaadServer.AgentTuning(AgentConfig.defaults(),
          LearningConfig.defaults().withBatch(1, Duration.ofSeconds(20)), SessionApi.Settings.defaults());
      try (YaadServer server = new YaadServer(config, tuning).start()) {
        Result result = runScript(server.port(), Map.of("YAAD_CREDENTIAL", API_KEY, "YAAD_SCREENSHOT_NAME", "companion-chat"));
        assertThat(result.output).contains("browser: ok   a text turn streams the reply and the panel learns",
            "browser: ok   a memory the model saves during the turn appears in the panel",
            "browser: ok   with authentication the page asks for a token",
            "browser: ok   an operator's API key opens a conversation for the user it names", "browser: ok   a screenshot of the page",
            "browser: ok   when the LLM is down the page says so once per turn, with a retry hint, and no empty bubble",
            "browser: ok   a failed reply is spoken in full by the browser",
            "browser: ok   a new user's first visit raises no error and no 404",
            "browser: ok   the interface follows the chosen language, Urdu or English",
            "browser: ok   the operator page charts what the server measures");
        assertThat(SCREENSHOTS.resolve("companion-chat.png")).isNotEmptyFile();
        assertThat(SCREENSHOTS.resolve("ops.png")).isNotEmptyFile();
      }
    }
  }

  /**
   * Server voice: the page on a server with the voice pipeline (local engines) and Chromium's
   * fake microphone playing a sentence that flite and sox make here; the page chooses server
   * voice on its own, streams the microphone, and shows the transcript and the reply while
   * the reply's audio frames arrive.
   */
  @Test
  void companionPage_serverVoice() throws Exception {
    // Chromium plays the file in a loop: the silence after the sentence leaves time for the reply before it comes again.
    Result result = runWithServerVoice("I am going to see my sister next week", 30.0, YaadServer.AgentTuning.defaults(),
        "server voice");
    assertThat(result.output).contains(
        "browser: ok   server voice: the microphone streams to the server, the transcript and a spoken reply come back");
    assertThat(SCREENSHOTS.resolve("server-voice.png")).isNotEmptyFile();
  }

  /**
   * Server voice over WebRTC (docs/webrtc.md): the same server with WebRTC on; the page sees
   * {@code webrtc} in its configuration and calls, Chromium's fake microphone goes to the server
   * as Opus over loopback WebRTC, the transcript and the reply arrive on the socket, and the
   * reply's audio on the call (the browser's inbound-rtp counts it).
   */
  @Test
  void companionPage_serverVoiceOverWebRtc() throws Exception {
    Result result = runWithServerVoice("I am going to Lahore next week", 3.0,
        YaadServer.AgentTuning.defaults().withWebRtc(WebRtcConfig.defaults()), "WebRTC voice");
    assertThat(result.output).contains(
        "browser: ok   WebRTC voice: a call carries the microphone and the spoken reply, the events stay on the socket");
    assertThat(SCREENSHOTS.resolve("webrtc-voice.png")).isNotEmptyFile();
  }

  /**
   * Runs the scenarios named {@code scenarios} against a server with local speech engines and the
   * scripted LLM (it echoes the user), Chromium's fake microphone saying {@code sentence}.
   */
  private static Result runWithServerVoice(String sentence, double silenceAfter, YaadServer.AgentTuning tuning,
      String scenarios) throws Exception {
    Assumptions.assumeTrue(SpokenFixtures.available() || System.getenv("CI") != null, "flite and sox are not installed");
    Path dir = Files.createTempDirectory("yaad-browser");
    Path wav = SpokenFixtures.englishWav(sentence, 48_000, 0.5, silenceAfter, dir.resolve("mic.wav"));
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("You said: " + c.lastUserMessage() + ". Tell me more."))) {
      YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
          .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withVoice(VoiceConfig.defaults());
      try (YaadServer server = new YaadServer(config, tuning).start()) {
        return runScript(server.port(), Map.of("YAAD_FAKE_MIC", wav.toString(), "YAAD_SCENARIOS", scenarios));
      }
    }
  }

  /** Runs test.mjs against the server on {@code port}; fails with the script's output unless every scenario passed. */
  static Result runScript(int port, Map<String, String> extraEnv) throws IOException, InterruptedException {
    List<String> command = List.of("node", "test.mjs");
    ProcessBuilder builder = new ProcessBuilder(command).directory(SCRIPTS.toFile()).redirectErrorStream(true);
    builder.environment().put("YAAD_BASE_URL", "http://127.0.0.1:" + port);
    builder.environment().put("YAAD_CHROMIUM", chromium);
    builder.environment().put("YAAD_SCREENSHOTS", SCREENSHOTS.toString());
    builder.environment().putAll(extraEnv);
    Result result = run(builder, SCRIPT_TIMEOUT_SECONDS);
    System.out.println(result.output.strip());
    if (result.exit != 0) {
      fail("the browser test failed (exit " + result.exit + "); screenshots are in " + SCREENSHOTS + ":\n" + result.output);
    }
    return result;
  }

  private static String findChromium() {
    List<String> candidates = new ArrayList<>();
    String configured = System.getenv("YAAD_CHROMIUM");
    if (configured != null && !configured.isBlank()) {
      candidates.add(configured);
    }
    candidates.add("/usr/bin/chromium");
    candidates.add("/usr/bin/chromium-browser");
    return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
  }

  private static void skipOrFail(String why) {
    if (System.getenv("CI") != null || System.getenv("YAAD_REQUIRE_SERVICES") != null) {
      fail("the browser test cannot run: " + why);
    }
    System.out.println("SKIPPED: BrowserTest: " + why);
    Assumptions.abort(why);
  }

  record Result(int exit, String output) {}

  private static Result run(List<String> command, Path dir, long timeoutSeconds) {
    try {
      return run(new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true), timeoutSeconds);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, e.toString());
    }
  }

  private static Result run(ProcessBuilder builder, long timeoutSeconds) throws IOException, InterruptedException {
    Process process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    // Read on another thread so a chatty process cannot fill the pipe and stall.
    StringBuilder output = new StringBuilder();
    Thread reader = Thread.ofVirtual().start(() -> {
      try {
        output.append(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        output.append("(could not read the output: ").append(e).append(")");
      }
    });
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      reader.join(5_000);
      return new Result(-1, output + "\n(killed after " + timeoutSeconds + " s)");
    }
    reader.join(5_000);
    return new Result(process.exitValue(), output.toString());
  }
}
