package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** One {@code yaad-bench} command run in process with its output captured, for the bench tests. */
record BenchRun(int exitCode, String out, String err) {

  static BenchRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = BenchMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new BenchRun(code, out.toString(), err.toString());
  }

  /** The last line of the output, which every benchmark makes its JSON. */
  JsonNode lastLineJson() throws IOException {
    List<String> lines = out.strip().lines().toList();
    return new ObjectMapper().readTree(lines.getLast());
  }
}
