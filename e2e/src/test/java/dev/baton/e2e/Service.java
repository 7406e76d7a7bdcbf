package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Os;
import dev.baton.os.Signal;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;

/**
 * A real `baton run` in its own JVM, driven over its real control socket. Closing it stops the
 * supervisor with SIGTERM and then makes sure that no process of the service is left: any
 * generation still alive is killed by its process group, the group baton gave it.
 */
final class Service implements AutoCloseable {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
  static final Path SAMPLE_JAR = ROOT.resolve("sample/target/baton-sample.jar");
  static final Path LIGHT_SAMPLE = ROOT.resolve("sample/src/main/python/light_sample.py");

  final Path dir;
  final Path config;
  final Path log;
  final Process process;

  /** The argv that runs `baton`: this build in the test's JVM, or an installed launcher. */
  private final List<String> baton;

  /** Concurrent: tests call status and deploy from threads of their own. */
  private final Set<Integer> generationPids = ConcurrentHashMap.newKeySet();

  private Service(Path dir, Process process, List<String> baton) {
    this.baton = baton;
    this.dir = dir;
    this.config = dir.resolve("baton.toml");
    this.log = dir.resolve("supervisor.log");
    this.process = process;
  }

  /** The sample service's argv: a small, quick-starting JVM. */
  static String sampleCommand(String... args) {
    return toml(sampleArgv(args));
  }

  /** The same argv as a list, for {@code deploy -- argv}. */
  static List<String> sampleArgv(String... args) {
    var words =
        new ArrayList<>(
            List.of(
                JAVA,
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xss512k",
                "-XX:-UsePerfData",
                "-jar",
                SAMPLE_JAR.toString()));
    words.addAll(List.of(args));
    return words;
  }

  static String toml(List<String> words) {
    return "["
        + String.join(
            ", ",
            words.stream()
                .map(
                    w ->
                        "\""
                            + w.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
                            + "\"")
                .toList())
        + "]";
  }

  /** The sample behind one loopback listener, ready by its HTTP probe. */
  static String sampleConfig(String... extra) {
    return config(sampleCommand(), "20s", "10s", extra);
  }

  /** The light sample (python3 -S, ready in tens of ms) behind one loopback listener. */
  static String lightSampleConfig(String... extra) {
    return lightSampleConfig(List.of(), extra);
  }

  /** The same, the light sample run with {@code args}, such as --work=20ms or --sloppy-drain. */
  static String lightSampleConfig(List<String> args, String... extra) {
    var argv = new ArrayList<>(List.of("/usr/bin/python3", "-S", LIGHT_SAMPLE.toString()));
    argv.addAll(args);
    return config(toml(argv), "10s", "5s", extra);
  }

  private static String config(
      String command, String readyTimeout, String drainTimeout, String... extra) {
    return """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        http = "/healthz"
        timeout = "%s"

        [drain]
        timeout = "%s"
        %s
        """
        .formatted(command, readyTimeout, drainTimeout, String.join("\n", extra));
  }

  /** This build's `baton`, in a JVM like the test's own. */
  static final List<String> BUILT =
      List.of(
          JAVA,
          "--enable-native-access=ALL-UNNAMED",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-cp",
          System.getProperty("java.class.path"),
          "dev.baton.cli.Main");

  static ProcessBuilder batonCommand(Path dir, String... args) {
    return batonCommand(BUILT, dir, args);
  }

  static ProcessBuilder batonCommand(List<String> baton, Path dir, String... args) {
    var command = new ArrayList<>(baton);
    command.addAll(List.of(args));
    return new ProcessBuilder(command).directory(dir.toFile());
  }

  /** Starts `baton run` and waits until a generation is active. */
  static Service start(Path dir, String toml) throws IOException {
    return start(BUILT, dir, toml);
  }

  /**
   * Starts `baton run` through {@code baton}, the argv of a launcher, and waits until a generation
   * is active.
   */
  static Service start(List<String> baton, Path dir, String toml) throws IOException {
    var service = launch(baton, dir, toml);
    try {
      service.awaitActive(Duration.ofSeconds(60));
    } catch (RuntimeException | AssertionError e) {
      service.close();
      throw e;
    }
    return service;
  }

  /** Starts `baton run` without waiting for anything. */
  static Service launch(Path dir, String toml) throws IOException {
    return launch(BUILT, dir, toml);
  }

  /**
   * Starts `baton run` through {@code baton}, the argv of a launcher, without waiting for anything.
   */
  static Service launch(List<String> baton, Path dir, String toml) throws IOException {
    Files.writeString(dir.resolve("baton.toml"), toml);
    var process =
        batonCommand(baton, dir, "run", "-c", dir.resolve("baton.toml").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("supervisor.log").toFile())
            .start();
    return new Service(dir, process, baton);
  }

  void awaitActive(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "baton run exited with " + process.exitValue() + ":\n" + logText());
      }
      try {
        var status = status();
        if (status.hasNonNull("active_generation")) {
          return;
        }
      } catch (ControlClient.ControlException e) {
        // Not listening yet.
      }
      sleep(50);
    }
    throw new AssertionError("no generation became active within " + timeout + ":\n" + logText());
  }

  JsonNode call(String command, Consumer<JsonNode> events) {
    return Wire.call(dir.resolve("baton.sock"), Wire.request(command), events);
  }

  JsonNode status() {
    var reply = call("status", e -> {});
    assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
    var status = reply.get("status");
    for (var g : status.path("generations")) {
      generationPids.add(g.path("pid").asInt());
    }
    return status;
  }

  int port() {
    var address = status().path("listeners").get(0).path("address").asString();
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  /**
   * The [metrics] page's address as the supervisor logs it once it serves it: the config may say
   * port 0, and only the log knows which port the kernel chose.
   */
  String metricsAddress() {
    var line = java.util.regex.Pattern.compile("metrics and status page on http://([^/\\s]+)/");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      var found = line.matcher(logText());
      if (found.find()) {
        return found.group(1);
      }
      sleep(50);
    }
    throw new AssertionError("no metrics address in the log within 10 s:\n" + logText());
  }

  /** Deploys the config's command (or argv) and returns the supervisor's final reply. */
  JsonNode deploy(List<String> argv) {
    var request =
        new Request.Deploy(
            argv.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(argv),
            java.util.Map.of(),
            false);
    return Wire.call(
        dir.resolve("baton.sock"), request, event -> generationPids.add(event.path("pid").asInt()));
  }

  JsonNode deploy() {
    return deploy(List.of());
  }

  /**
   * Rolls back and returns the supervisor's final reply; each step's event goes to {@code events}.
   */
  JsonNode rollback(Consumer<JsonNode> events) {
    return call(
        "rollback",
        event -> {
          generationPids.add(event.path("pid").asInt());
          events.accept(event);
        });
  }

  /** Runs the `baton` CLI as its own process; returns exit status and output. */
  CliResult cli(String... args) throws IOException, InterruptedException {
    var all = new ArrayList<>(List.of(args));
    all.addAll(List.of("-c", config.toString()));
    var p = batonCommand(baton, dir, all.toArray(String[]::new)).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new CliResult(p.exitValue(), out);
  }

  record CliResult(int exit, String output) {}

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  Set<Integer> generationPids() {
    return Set.copyOf(generationPids);
  }

  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        status();
      }
    } catch (RuntimeException e) {
      // Best effort: the pids seen so far are enough to clean up.
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    var os = Os.linux();
    for (var pid : generationPids) {
      if (pid > 0 && ProcessHandle.of(pid).isPresent()) {
        os.signalGroup(pid, Signal.KILL);
      }
    }
  }

  static boolean groupAlive(int pgid) throws IOException {
    try (var procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .anyMatch(
              p -> {
                try {
                  var stat = Files.readString(p.resolve("stat"));
                  var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                  return Integer.parseInt(fields[2]) == pgid && !fields[0].equals("Z");
                } catch (IOException | RuntimeException e) {
                  return false;
                }
              });
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
