package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Listeners;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sample server running as a real process, from the compiled classes or, for the light sample,
 * under python3, with its listeners handed over as baton does (through hand_over.py) or bound by
 * itself. Ends the process on close.
 */
final class SampleProcess implements AutoCloseable {

  /** How the listeners reach the process. */
  enum HandOver {
    /** None: the sample binds 127.0.0.1 itself, on a free port. */
    NONE,
    /** One listener at fd 0. */
    FD0,
    /** Listeners at fds 3.. with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID. */
    LISTEN_FDS
  }

  static final String FLAG = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
  private static final Duration STARTUP = Duration.ofSeconds(20);

  /** The port of a fallback listener, as the JVM sample and the light sample say it. */
  private static final Pattern BOUND_PORT =
      Pattern.compile(
          "(?:=127\\.0\\.0\\.1:(\\d+) \\(bound here\\)|on 127\\.0\\.0\\.1:(\\d+) \\(http\\)$)");

  final Process process;
  final List<SocketAddress> addresses = new ArrayList<>();
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
  private final StringBuffer stderr = new StringBuffer();

  private SampleProcess(Process process) {
    this.process = process;
  }

  /** Starts the sample and waits until it says it is listening. */
  static SampleProcess start(HandOver handOver, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    SampleProcess sample = launch(handOver, "inet", "http", jvm(List.of(FLAG)), env, args);
    sample.awaitLine("listening on");
    return sample;
  }

  /** The JVM sample's argv, from the compiled classes. */
  static List<String> jvm(List<String> jvmFlags) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow());
    // Quick to start and light on 2 cores: these processes serve a few requests each.
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    command.addAll(jvmFlags);
    command.addAll(
        List.of(
            "-cp",
            codeSource(SampleServer.class) + ":" + codeSource(Listeners.class),
            SampleServer.class.getName()));
    return command;
  }

  /** The light sample's argv, as bench runs it. */
  static List<String> light() {
    return List.of("python3", "-S", LIGHT.toString());
  }

  static SampleProcess start(String... args) throws IOException, InterruptedException {
    return start(HandOver.NONE, Map.of(), args);
  }

  /**
   * Starts the sample without waiting for anything.
   *
   * @param family inet, inet6 or unix, for hand_over.py
   * @param names the listeners' names, colon-separated
   * @param program the sample's argv before {@code args}: {@link #jvm} or {@link #light}
   */
  static SampleProcess launch(
      HandOver handOver,
      String family,
      String names,
      List<String> program,
      Map<String, String> env,
      String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if (handOver != HandOver.NONE) {
      command.addAll(
          List.of(
              "python3",
              HAND_OVER.toString(),
              handOver == HandOver.FD0 ? "fd0" : "listen-fds",
              family,
              names));
    }
    command.addAll(program);
    command.addAll(List.of(args));
    if (handOver == HandOver.NONE
        && List.of(args).stream().noneMatch(a -> a.startsWith("--port"))) {
      command.add("--port=0");
    }
    ProcessBuilder builder = new ProcessBuilder(command);
    builder
        .environment()
        .keySet()
        .removeIf(k -> k.startsWith("LISTEN_") || k.startsWith("SAMPLE_"));
    builder.environment().putAll(env);
    SampleProcess sample = new SampleProcess(builder.start());
    sample.readOutputs();
    if (handOver != HandOver.NONE) {
      String first = sample.nextLine(STARTUP);
      assertThat(first).as("hand_over.py's first line").startsWith("listening ");
      for (String address : first.substring("listening ".length()).split(" ")) {
        sample.addresses.add(parse(address));
      }
    }
    return sample;
  }

  private void readOutputs() {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (BufferedReader reader = reader(process.getInputStream())) {
                reader.lines().forEach(stdout::add);
              } catch (IOException e) {
                // the process ended
              }
            });
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (BufferedReader reader = reader(process.getErrorStream())) {
                reader.lines().forEach(line -> stderr.append(line).append('\n'));
              } catch (IOException e) {
                // the process ended
              }
            });
  }

  /** Waits for a stdout line containing text; learns the port from the fallback listening line. */
  String awaitLine(String text) throws InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      String line = nextLine(Duration.ofNanos(deadline - System.nanoTime()));
      if (line == null) {
        break;
      }
      Matcher bound = BOUND_PORT.matcher(line);
      if (line.contains("listening on") && bound.find()) {
        String port = bound.group(1) != null ? bound.group(1) : bound.group(2);
        addresses.add(new InetSocketAddress("127.0.0.1", Integer.parseInt(port)));
      }
      if (line.contains(text)) {
        return line;
      }
    }
    throw new AssertionError(
        "no stdout line with '" + text + "'; alive: " + process.isAlive() + ", stderr: " + stderr);
  }

  /** The next stdout line, or null if none comes within timeout. */
  String nextLine(Duration timeout) throws InterruptedException {
    return stdout.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  SocketAddress address() {
    return addresses.get(0);
  }

  long pid() {
    return process.pid();
  }

  /**
   * Sends SIGTERM, as baton does to drain a generation. Through the ProcessHandle: {@link
   * Process#destroy()} also closes our ends of the process's stdout and stderr, and the drain's log
   * lines would be lost.
   */
  void terminate() {
    process.toHandle().destroy();
  }

  int awaitExit(Duration timeout) throws InterruptedException {
    assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
        .as("sample exited within " + timeout + "; stderr: " + stderr)
        .isTrue();
    return process.exitValue();
  }

  String stderr() {
    return stderr.toString();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  private static BufferedReader reader(java.io.InputStream stream) {
    return new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
  }

  private static SocketAddress parse(String address) {
    if (address.startsWith("/")) {
      return UnixDomainSocketAddress.of(address);
    }
    int colon = address.lastIndexOf(':');
    String host = address.substring(0, colon).replace("[", "").replace("]", "");
    return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
  }

  /** The hand-over shim is baton-app's test fixture; one copy serves both modules' tests. */
  private static final Path HAND_OVER =
      Path.of("../app/src/test/resources/hand_over.py").toAbsolutePath().normalize();

  private static final Path LIGHT = Path.of("src/main/python/light_sample.py").toAbsolutePath();

  private static Path codeSource(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
