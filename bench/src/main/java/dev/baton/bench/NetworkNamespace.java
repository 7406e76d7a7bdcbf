package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of bench's own, so that {@code net.ipv4.tcp_migrate_req}, which is per
 * namespace, can be set for one scenario without touching the host's. As root, bench relaunches
 * itself inside a fresh namespace with {@link #relaunch}; everything it starts (the apps, the
 * supervisor, wrk and ab) and all its traffic then stay on that namespace's loopback.
 */
public final class NetworkNamespace {
  /** Set in the relaunched bench: the namespace it runs in. */
  static final String ENV = "BATON_BENCH_NETNS";

  private static final Path MIGRATE_REQ = Path.of("/proc/sys/net/ipv4/tcp_migrate_req");

  private final String name;

  private NetworkNamespace(String name) {
    this.name = name;
  }

  /** The namespace this bench runs in, when it is one bench made. */
  static Optional<NetworkNamespace> current() {
    return Optional.ofNullable(System.getenv(ENV)).map(NetworkNamespace::new);
  }

  /** Whether this process is inside a namespace bench made for it. */
  public static boolean inside() {
    return current().isPresent();
  }

  /**
   * Whether a namespace can be made here: root, the `ip` tool, and a kernel with tcp_migrate_req.
   */
  public static Optional<String> unavailableBecause() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return Optional.of("it needs root, to make a network namespace with 'ip netns add'");
    }
    if (!CrossCheck.installed("ip")) {
      return Optional.of("the 'ip' tool (iproute2) is not installed");
    }
    if (!Files.exists(MIGRATE_REQ)) {
      return Optional.of("this kernel has no net.ipv4.tcp_migrate_req (it came in Linux 5.14)");
    }
    return Optional.empty();
  }

  String name() {
    return name;
  }

  /** The host's value, for the report when no namespace could be made. */
  static String migrateReq() {
    try {
      return Files.readString(MIGRATE_REQ).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  void setMigrateReq(boolean on) {
    try {
      Files.writeString(MIGRATE_REQ, on ? "1\n" : "0\n");
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot set net.ipv4.tcp_migrate_req in netns " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs this very command line again inside a new network namespace with its loopback up, waits
   * for it, removes the namespace and returns its exit status. Ctrl-C reaches the relaunched bench
   * too (it is in this terminal's process group), which stops and prints its partial report.
   */
  public static int relaunch() throws IOException, InterruptedException {
    var name = "baton-bench-" + ProcessHandle.current().pid();
    run("ip", "netns", "add", name);
    try {
      run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
      var self = ProcessHandle.current().info();
      var argv =
          new ArrayList<>(List.of("ip", "netns", "exec", name, self.command().orElseThrow()));
      argv.addAll(List.of(self.arguments().orElseThrow()));
      var builder = new ProcessBuilder(argv).inheritIO();
      builder.environment().put(ENV, name);
      var process = builder.start();
      // Ctrl-C: the relaunched bench stops itself; this one waits for it before removing the
      // namespace.
      var hook =
          Thread.ofPlatform()
              .unstarted(
                  () -> {
                    try {
                      process.waitFor(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    removeQuietly(name);
                  });
      Runtime.getRuntime().addShutdownHook(hook);
      int status = process.waitFor();
      Runtime.getRuntime().removeShutdownHook(hook);
      return status;
    } finally {
      removeQuietly(name);
    }
  }

  private static void removeQuietly(String name) {
    try {
      new ProcessBuilder("ip", "netns", "del", name)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      // Nothing more to do; 'ip netns list' shows it.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void run(String... argv) throws IOException, InterruptedException {
    var process = new ProcessBuilder(argv).redirectErrorStream(true).start();
    var output = new String(process.getInputStream().readAllBytes()).trim();
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", argv) + " failed: " + output);
    }
  }
}
