package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.testing.TestStores;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void aPortInUse_failsBeforeTheDatabaseIsOpened(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      MainTest.Run run = MainTest.run(Map.of(), "serve", "--port", Integer.toString(taken.getLocalPort()),
          "--db-url", "jdbc:h2:file:" + dir.resolve("data/yaad"));
      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.err()).startsWith("yaad: port " + taken.getLocalPort()).contains("already in use", "--port")
          .doesNotContain("\tat ");
      assertThat(dir.resolve("data")).as("nothing was opened or created").doesNotExist();
    }
  }

  @Test
  void anH2FileOpenInAnotherProcess_saysSo_andWhatToDo(@TempDir Path dir) throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("yaad");
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HoldH2.class.getName(), url).redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("open");
      MainTest.Run serve = MainTest.run(Map.of(), "serve", "--port", "0", "--db-url", url);
      assertThat(serve.exitCode()).isEqualTo(1);
      assertThat(serve.err()).contains("is open in another process", "Stop that process", "PostgreSQL").doesNotContain("\tat ");
      MainTest.Run export = MainTest.run(Map.of(), "users", "export", "ali", "--db-url", url);
      assertThat(export.err()).contains("is open in another process");
    } finally {
      holder.getOutputStream().close();
      holder.waitFor();
    }
  }

  /** The embedding model loads in the background; until it is ready, so is the server not. */
  @Test
  void ready_staysNotReady_whileTheEmbeddingModelLoads(@TempDir Path dir) throws Exception {
    CountDownLatch loaded = new CountDownLatch(1);
    Embedder slow = new Embedder() {
      @Override public String modelId() { return OnnxEmbedder.MINILM_MODEL_ID; }
      @Override public int dimension() { return OnnxEmbedder.DIMENSION; }
      @Override public List<float[]> embed(List<String> texts) { return OnnxEmbedder.shared().embed(texts); }
      @Override public void warmUp() {
        try {
          loaded.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        OnnxEmbedder.shared().warmUp();
      }
    };
    try (YaadServer server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withEmbedder(slow)).start()) {
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/ready")).build();
      HttpResponse<String> loading = http.send(ready, HttpResponse.BodyHandlers.ofString());
      assertThat(loading.statusCode()).isEqualTo(503);
      assertThat(loading.body()).contains("\"embeddings\":\"loading\"", "\"database\":\"ok\"");
      loaded.countDown();
      long deadline = System.nanoTime() + 30_000_000_000L;
      HttpResponse<String> answer;
      do {
        Thread.sleep(20); // polling the probe, as a load balancer would
        answer = http.send(ready, HttpResponse.BodyHandlers.ofString());
      } while (answer.statusCode() != 200 && System.nanoTime() < deadline);
      assertThat(answer.body()).contains("\"embeddings\":\"ok\"");
    }
  }
}
