package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code yaad chat} driven as a person would, with piped input: an in-process server on an H2
 * file and the scripted LLM (real HTTP on loopback), and a running server over {@code --url}.
 */
class ChatCommandTest {

  /** Runs {@code yaad chat} with {@code input} as standard input. */
  static MainTest.Run chat(Map<String, String> env, String input, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(env);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    ChatCommand command = cli.getSubcommands().get("chat").getCommand();
    command.in = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
    String[] all = new String[args.length + 1];
    all[0] = "chat";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = cli.execute(all);
    return new MainTest.Run(code, out.toString(), err.toString());
  }

  @Test
  void chat_inProcess_greets_streamsReplies_showsToolsAndWhatWasLearned(@TempDir Path dir) {
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().contains("remember"),
            c -> Answer.toolCall("saveMemory", "{\"category\":\"PREFERENCE\",\"content\":\"Drinks cardamom chai every evening\"}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("Noted: " + c.lastUserMessage()))) {
      Map<String, String> env = Map.of("YAAD_LLM_BASE_URL", llm.baseUrl(), "YAAD_LLM_MODEL", "scripted",
          "YAAD_DB_URL", "jdbc:h2:file:" + dir.resolve("yaad"));
      MainTest.Run run = chat(env, "Please remember that I drink chai every evening\nI am planning to visit Lahore next week\n",
          "--user", "ali");

      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out())
          .contains("yaad> Hello! It is lovely to hear your voice.")
          .contains("you> Please remember that I drink chai every evening")
          .contains("[saveMemory ")
          .contains("[learned + PREFERENCE: Drinks cardamom chai every evening]")
          .contains("you> I am planning to visit Lahore next week")
          .contains("yaad> Noted: I am planning to visit Lahore next week")
          .contains("Learned in this conversation:")
          .contains("PLAN: I am planning to visit Lahore next week");
      // The turns come in order: the second line is sent after the first reply ended.
      assertThat(run.out().indexOf("[learned + PREFERENCE")).isLessThan(run.out().indexOf("you> I am planning"));
      assertThat(run.err()).doesNotContain("\tat ");
    }
  }

  @Test
  void chat_withoutAnLlm_saysWhatToSet_andOpensNothing(@TempDir Path dir) {
    MainTest.Run run = chat(Map.of(), "hello\n", "--db-url", "jdbc:h2:file:" + dir.resolve("yaad"));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("no LLM is configured", "YAAD_LLM_BASE_URL", "--url");
    assertThat(dir.resolve("yaad.mv.db")).doesNotExist();
  }

  @Test
  void chat_withUrl_toAServerWithoutAnLlm_saysSo(@TempDir Path dir) {
    try (YaadServer server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)).start()) {
      MainTest.Run run = chat(Map.of(), "hello\n", "--url", "http://127.0.0.1:" + server.port());
      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.err()).contains("has no LLM configured", "YAAD_LLM_BASE_URL");
    }
  }

  @Test
  void chat_withUrl_talksToARunningServer(@TempDir Path dir) {
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("You said: " + c.lastUserMessage()));
        YaadServer server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
            .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null))).start()) {
      MainTest.Run run = chat(Map.of(), "good morning\n", "--url", "http://127.0.0.1:" + server.port(), "--user", "sana");
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out()).contains("yaad> Hello!", "you> good morning", "yaad> You said: good morning");
    }
  }

  @Test
  void chat_withUrl_toAServerWithAuth_usesTheTokenFromTheEnvironment(@TempDir Path dir) {
    String key = "chat-test-admin-key-0123456789";
    try (ScriptedLlmServer llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("Hi " + c.lastUserMessage()));
        YaadServer server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
            .withAuth(dev.yaad.server.auth.AuthConfig.of(key, null))
            .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null))).start()) {
      String url = "http://127.0.0.1:" + server.port();
      MainTest.Run refused = chat(Map.of(), "hello\n", "--url", url);
      assertThat(refused.exitCode()).isEqualTo(1);
      assertThat(refused.err()).contains("cannot open a session");
      MainTest.Run run = chat(Map.of("YAAD_CHAT_TOKEN", key), "hello\n", "--url", url, "--user", "sana");
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out()).contains("yaad> Hi hello", "Learned nothing new in this conversation.");
    }
  }

  @Test
  void chat_withUrl_refusesServeOptions() {
    MainTest.Run run = chat(Map.of(), "", "--url", "http://127.0.0.1:1", "--db-url", "jdbc:h2:file:./x");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--db-url", "in-process");
  }
}
