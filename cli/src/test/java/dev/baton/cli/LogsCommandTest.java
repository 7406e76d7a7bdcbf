package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code baton logs}: the [logs] file and its rotated files, read directly; --reopen asks. */
class LogsCommandTest {
  private static final String G2_OLD = "2025-06-01T10:00:00.000+02:00 gen 2 | started";
  private static final String G2_ERR = "2025-06-01T10:00:01.000+02:00 gen 2 ! warning: slow";
  private static final String G3_A = "2025-06-01T11:00:00.000+02:00 gen 3 | started";
  private static final String G2_END = "2025-06-01T11:00:00.500+02:00 gen 2 | drained";
  private static final String G3_B = "2025-06-01T11:00:01.000+02:00 gen 3 | héllo wörld";

  @TempDir Path dir;
  private String config;

  @BeforeEach
  void writeTheLog() throws Exception {
    config = Cli.config(dir, "[logs]", "file = \"app.log\"", "keep = 3").toString();
    Files.writeString(dir.resolve("app.log.2"), G2_OLD + "\n");
    Files.writeString(dir.resolve("app.log.1"), G2_ERR + "\n" + G3_A + "\n");
    Files.writeString(dir.resolve("app.log"), G2_END + "\n" + G3_B + "\n");
    // Beyond keep: not the service's any more.
    Files.writeString(dir.resolve("app.log.4"), "2025-05-01T00:00:00.000+02:00 gen 1 | old\n");
  }

  @Test
  void printsTheRotatedFilesOldestFirstThenTheCurrentOne() {
    var result = Cli.run("logs", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines()).containsExactly(G2_OLD, G2_ERR, G3_A, G2_END, G3_B);
    assertThat(result.err()).isEmpty();
  }

  @Test
  void linesKeepsTheLastOnesAcrossFiles() {
    assertThat(Cli.run("logs", "-c", config, "-n", "3").outLines())
        .containsExactly(G3_A, G2_END, G3_B);
    assertThat(Cli.run("logs", "-c", config, "--lines=0").out()).isEmpty();
  }

  @Test
  void generationKeepsThatGenerationsLinesOnly() {
    assertThat(Cli.run("logs", "-c", config, "--generation", "2").outLines())
        .containsExactly(G2_OLD, G2_ERR, G2_END);
    assertThat(Cli.run("logs", "-c", config, "--generation", "3", "-n", "1").outLines())
        .containsExactly(G3_B);
    assertThat(Cli.run("logs", "-c", config, "--generation", "9").out()).isEmpty();
  }

  @Test
  void aNegativeLineCountIsAUsageError() {
    var result = Cli.run("logs", "-c", config, "-n", "-1");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).containsExactly("baton: -n must be 0 or more lines");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void aGenerationThatIsNotANumberIsAUsageError() {
    var result = Cli.run("logs", "-c", config, "--generation", "latest");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("--generation").contains("'latest'");
  }

  @Test
  void aConfigWithoutALogFileIsAUsageError() {
    var result = Cli.run("logs", "-c", Cli.config(dir).toString());

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: ").contains("has no [logs] file");
  }

  @Test
  void noLogYetExitsOne() throws Exception {
    for (var name : new String[] {"app.log", "app.log.1", "app.log.2"}) {
      Files.delete(dir.resolve(name));
    }

    var result = Cli.run("logs", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines())
        .containsExactly(
            "baton: no log at "
                + dir.resolve("app.log")
                + " yet: the supervisor creates it when it starts");
  }

  @Test
  void reopenAsksTheSupervisor() throws Exception {
    try (var supervisor = FakeSupervisor.at(dir.resolve("baton.sock"))) {
      supervisor.answer(new Reply.Reopened(dir.resolve("app.log").toString()));

      var result = Cli.run("logs", "-c", config, "--reopen");

      assertThat(result.status()).as(result.toString()).isZero();
      assertThat(supervisor.request()).isEqualTo(new Request.ReopenLogs());
      assertThat(result.outLines()).containsExactly("reopened the log file");
    }
  }

  @Test
  void aRefusedReopenExitsOne() throws Exception {
    try (var supervisor = FakeSupervisor.at(dir.resolve("baton.sock"))) {
      supervisor.answer(new Reply.Failed("cannot open app.log: Permission denied"));

      var result = Cli.run("logs", "-c", config, "--reopen");

      assertThat(result.status()).isEqualTo(Main.FAILED);
      assertThat(result.errLines())
          .containsExactly("baton: cannot open app.log: Permission denied");
      assertThat(result.out()).isEmpty();
    }
  }
}
