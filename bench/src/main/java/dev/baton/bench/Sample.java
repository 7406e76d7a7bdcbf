package dev.baton.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A bundled sample service: what bench replaces again and again unless it is pointed at a running
 * service. Both kinds answer "generation N pid P", adopt LISTEN_FDS, bind {@code --port} otherwise
 * ({@code --reuse-port} for SO_REUSEPORT), drain on SIGTERM, and print "listening on ..." once they
 * accept, which is how the scenarios without a supervisor know that a generation is ready.
 *
 * @param kind which one
 * @param command the argv before the sample's own options
 * @param readiness the supervisor's [readiness] table for it
 */
record Sample(SampleKind kind, List<String> command, String readiness) {

  /** The line the sample prints once it has adopted or bound its listener and accepts. */
  static final String LISTENING = "listening on";

  static final String JAR = "sample/target/baton-sample.jar";
  static final String SCRIPT = "sample/src/main/python/light_sample.py";

  /** Where a release (bin/release) keeps the two samples, beside bin/ and lib/. */
  private static final String RELEASE_JAR = "samples/baton-sample.jar";

  private static final String RELEASE_SCRIPT = "samples/light_sample.py";

  /** The JVM sample of the baton tree this runs from. */
  static Sample locate() {
    return locate(SampleKind.JVM);
  }

  /**
   * The sample of the baton tree this runs from: {@code baton.home} when bin/baton set it, else the
   * first directory up from the working directory that holds {@link #JAR}.
   *
   * @throws IllegalArgumentException when it is not built, or python3 is missing; with what to do
   */
  static Sample locate(SampleKind kind) {
    var home =
        home()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "cannot find the baton tree (no -Dbaton.home, and no "
                            + JAR
                            + " above "
                            + Path.of("").toAbsolutePath()
                            + "); run bench through bin/baton, or from inside the tree"));
    return switch (kind) {
      case JVM -> jvm(home);
      case LIGHT -> light(home);
    };
  }

  /**
   * A small, quick-starting JVM, as the e2e tests run it: C1 only and the serial collector, because
   * on two cores a JVM start competes with the load for CPU.
   */
  private static Sample jvm(Path home) {
    var jar = inTree(home, JAR, RELEASE_JAR);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "the sample service is not built: "
              + jar
              + " is missing; build it with"
              + " 'mvn -q -pl sample -am package -DskipTests' in "
              + home);
    }
    return new Sample(
        SampleKind.JVM,
        List.of(
            BatonService.java().toString(),
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xss512k",
            "-XX:-UsePerfData",
            "-jar",
            jar.toString()),
        """
        http = "/healthz"
        timeout = "30s"
        """);
  }

  /**
   * python3 -S: no site module, so it starts in about 20 ms. The interpreter is found on PATH and
   * resolved to its file, so that a version manager's shell shim (pyenv's costs 80 ms) is skipped.
   */
  private static Sample light(Path home) {
    var script = inTree(home, SCRIPT, RELEASE_SCRIPT);
    if (!Files.isRegularFile(script)) {
      throw new IllegalArgumentException("the light sample is missing: " + script);
    }
    var python =
        python3()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "the light sample needs python3, and none is on PATH or in /usr/bin; install it (apt-get install python3)"));
    return new Sample(
        SampleKind.LIGHT,
        List.of(python.toString(), "-S", script.toString()),
        """
        notify = true
        timeout = "10s"
        """);
  }

  /** The checkout's path when it is there, else the release's. */
  private static Path inTree(Path home, String checkout, String release) {
    var inCheckout = home.resolve(checkout);
    return Files.exists(inCheckout) || !Files.exists(home.resolve(release))
        ? inCheckout
        : home.resolve(release);
  }

  /** /usr/bin/python3 first, which is the system's own; then the first on PATH. */
  static Optional<Path> python3() {
    var candidates = new ArrayList<Path>();
    candidates.add(Path.of("/usr/bin/python3"));
    for (var dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty()) {
        candidates.add(Path.of(dir, "python3"));
      }
    }
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  static Optional<Path> home() {
    var property = System.getProperty("baton.home");
    if (property != null && Files.isDirectory(Path.of(property))) {
      return Optional.of(Path.of(property).toAbsolutePath().normalize());
    }
    for (var dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(JAR))) {
        return Optional.of(dir);
      }
    }
    return Optional.empty();
  }

  /** The sample's argv with {@code options}. */
  List<String> argv(List<String> options) {
    var words = new ArrayList<>(command);
    words.addAll(options);
    return words;
  }
}
