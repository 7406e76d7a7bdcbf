package dev.baton.cli;

import java.util.List;

/**
 * The workload a release's AOT cache is trained on (bin/release): the commands an operator types
 * most, run in one JVM against a supervisor the release script started, so that the cache holds
 * every class they load, linked, and the profiles of their hot methods. Each command must succeed,
 * or the cache would be trained on an error path and the release says so.
 */
final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: AotTraining CONFIG (a supervisor must be running on it)");
      System.exit(Main.USAGE);
    }
    var config = args[0];
    // Only the commands PlainArgs reads: every class in the cache is loaded at each start (about
    // 20 ms more for picocli's), so --help, check and the rest load theirs from the jars instead.
    var lines =
        List.of(
            List.of("--version"),
            List.of("status", "-c", config),
            List.of("status", "--json", "-c", config),
            List.of("deploy", "-c", config),
            List.of("rollback", "--json", "-c", config),
            List.of("deploy", "--json", "--wait", "-c", config),
            List.of("rollback", "-c", config),
            List.of("status", "-c", config),
            List.of("stop", "-c", config));
    for (var line : lines) {
      int status = Main.run(line.toArray(String[]::new));
      if (status != 0) {
        System.err.println("AotTraining: 'baton " + String.join(" ", line) + "' exited " + status);
        System.exit(Main.FAILED);
      }
    }
  }
}
