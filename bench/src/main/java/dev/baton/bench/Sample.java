package dev.baton.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bundled sample service, {@code sample/target/baton-sample.jar}: what bench replaces again and
 * again unless it is pointed at a running service. It prints "listening on ..." once it accepts,
 * which is how the scenarios without a supervisor know that a generation is ready.
 *
 * @param jar the runnable jar
 * @param java the java launcher that runs it: this JVM's
 */
record Sample(Path jar, Path java) {

  /** The line the sample prints once it has adopted or bound its listener and accepts. */
  static final String LISTENING = "listening on";

  /**
   * The sample of the baton tree this runs from: {@code baton.home} when bin/baton set it, else the
   * first directory up from the working directory that holds {@code sample/target/baton-sample.jar}.
   */
  static Sample locate() {
    var home = home().orElseThrow(() -> new IllegalArgumentException(
        "cannot find the baton tree (no -Dbaton.home, and no sample/target/baton-sample.jar above "
            + Path.of("").toAbsolutePath() + "); run bench through bin/baton, or from inside the tree"));
    var jar = home.resolve("sample/target/baton-sample.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException("the sample service is not built: " + jar + " is missing; build it with"
          + " 'mvn -q -pl sample -am package -DskipTests' in " + home);
    }
    var java = ProcessHandle.current().info().command().map(Path::of)
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    return new Sample(jar, java);
  }

  static Optional<Path> home() {
    var property = System.getProperty("baton.home");
    if (property != null && Files.isDirectory(Path.of(property))) {
      return Optional.of(Path.of(property).toAbsolutePath().normalize());
    }
    for (var dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("sample/target/baton-sample.jar"))) {
        return Optional.of(dir);
      }
    }
    return Optional.empty();
  }

  /**
   * The sample's argv. A small, quick-starting JVM, as the e2e tests run it: C1 only and the serial
   * collector, because on two cores a JVM start competes with the load for CPU.
   */
  List<String> argv(String... options) {
    var words = new ArrayList<>(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Xss512k", "-XX:-UsePerfData", "-jar", jar.toString()));
    words.addAll(List.of(options));
    return words;
  }
}
