package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a newcomer meets first on the command line: the version, and usage errors that say where a bad value came from. */
class StartupTest {

  @Test
  void version_namesTheBuildAndTheJavaRuntime() {
    MainTest.Run run = MainTest.run(Map.of(), "--version");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).startsWith("yaad ").contains(Version.of(), "Java " + Runtime.version().feature());
    assertThat(Version.of()).isNotEqualTo("unknown").doesNotContain("${");
  }

  @Test
  void aBadValueFromTheEnvironment_namesTheVariable() {
    MainTest.Run run = MainTest.run(Map.of("YAAD_PORT", "eighty"), "serve");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--port", "eighty", "environment variable YAAD_PORT");

    MainTest.Run checked = MainTest.run(Map.of("YAAD_API_KEYS", "short"), "serve");
    assertThat(checked.exitCode()).isEqualTo(2);
    assertThat(checked.err()).contains("--api-keys", "environment variable YAAD_API_KEYS").doesNotContain("short");
  }

  @Test
  void aBadValueOnTheCommandLine_doesNotBlameTheEnvironment() {
    MainTest.Run run = MainTest.run(Map.of("YAAD_PORT", "9090"), "serve", "--port", "eighty");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--port", "eighty").doesNotContain("YAAD_PORT");
  }

  @Test
  void aMisspeltFlag_suggestsTheNearestOne_withoutTheWholeUsage() {
    MainTest.Run run = MainTest.run(Map.of(), "serve", "--prot", "8081");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("'--prot'", "Did you mean --port?");
    assertThat(run.err().lines().count()).isLessThan(8);
    MainTest.Run command = MainTest.run(Map.of(), "serv");
    assertThat(command.err()).contains("Did you mean serve?");
    MainTest.Run far = MainTest.run(Map.of(), "serve", "--colour", "red");
    assertThat(far.err()).contains("'--colour'").doesNotContain("Did you mean");
  }
}
