package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The JVM flags `baton run` ships with, from bin/lib/supervisor.jvm-options, which bin/baton reads
 * too: bench measures the supervisor as operators run it.
 */
final class SupervisorFlags {
  /** Where no checkout is at hand (baton.home unset): the flags that matter most. */
  private static final List<String> FALLBACK =
      List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xms8m", "-Xmx48m");

  private SupervisorFlags() {}

  static List<String> get() {
    var home = System.getProperty("baton.home");
    if (home == null) {
      return FALLBACK;
    }
    var file = Path.of(home, "bin", "lib", "supervisor.jvm-options");
    try {
      return Files.readAllLines(file).stream()
          .map(String::strip)
          .filter(line -> !line.isEmpty() && !line.startsWith("#"))
          .toList();
    } catch (IOException e) {
      return FALLBACK;
    }
  }
}
