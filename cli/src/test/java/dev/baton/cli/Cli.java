package dev.baton.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one baton command line as {@link Main#run} does and captures what it printed. The commands
 * print to System.out and System.err, so those are swapped around the call and put back after.
 */
final class Cli {
  /** Every command baton has, as its --help lists them. */
  static final List<String> COMMANDS =
      List.of(
          "run",
          "deploy",
          "rollback",
          "status",
          "stop",
          "check",
          "bench",
          "demo",
          "upgrade",
          "logs",
          "rollout",
          "haproxy-config");

  private Cli() {}

  /** What a command line did: its exit status and everything it printed. */
  record Result(int status, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    List<String> errLines() {
      return err.lines().toList();
    }

    /** The first line on stderr: the one that names the problem. */
    String error() {
      return err.lines().findFirst().orElse("");
    }

    @Override
    public String toString() {
      return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  static synchronized Result run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var savedOut = System.out;
    var savedErr = System.err;
    int status;
    try (var o = new PrintStream(out, true, StandardCharsets.UTF_8);
        var e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setOut(o);
      System.setErr(e);
      status = Main.run(args);
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
    return new Result(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /**
   * A valid baton.toml in {@code dir}, with {@code extra} lines after its [app] and [[listen]]; its
   * control socket is dir/baton.sock unless {@code extra} has a [control] table.
   */
  static Path config(Path dir, String... extra) {
    var file = dir.resolve("baton.toml");
    var text =
        """
        [app]
        command = ["./server", "--port-from-fd"]

        [[listen]]
        name = "http"
        address = "127.0.0.1:8080"
        """
            + String.join("\n", extra)
            + "\n";
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }
}
