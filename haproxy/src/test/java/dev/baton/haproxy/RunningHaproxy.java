package dev.baton.haproxy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy on loopback for one test, with its stats socket in the test's directory; stopped
 * by its pid.
 */
final class RunningHaproxy implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/sbin/haproxy");

  final Path config;
  final Path socket;
  final Process process;

  private RunningHaproxy(Path config, Path socket, Process process) {
    this.config = config;
    this.socket = socket;
    this.process = process;
  }

  /** Starts HAProxy with {@code text}, in which %SOCKET% is the stats socket's path. */
  static RunningHaproxy start(Path dir, String text) throws IOException, InterruptedException {
    assumeTrue(
        Files.isExecutable(BINARY), "HAProxy is installed (apt-get install haproxy; .ci/run does)");
    var socket = dir.resolve("admin.sock");
    var config = dir.resolve("haproxy.cfg");
    Files.writeString(config, text.replace("%SOCKET%", socket.toString()));
    var process =
        new ProcessBuilder(BINARY.toString(), "-db", "-f", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    var haproxy = new RunningHaproxy(config, socket, process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
      }
      try (var c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        c.connect(UnixDomainSocketAddress.of(socket));
        return haproxy;
      } catch (IOException e) {
        Thread.sleep(20);
      }
    }
    haproxy.close();
    throw new IllegalStateException("haproxy did not open " + socket + " within 10 s");
  }

  static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
