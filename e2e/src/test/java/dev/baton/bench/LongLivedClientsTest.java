package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long-lived fleets against the real NettyExample, run outside baton: a steady run in which
 * every message is answered, then a SIGTERM whose drain must end every connection politely (1012,
 * or GOAWAYs) within its window. In bench's package, on the same class path, to reach the fleets.
 */
class LongLivedClientsTest {
  private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
  private static final int CLIENTS = 50;

  /** The example's drain window: its long-lived connections are ended over the first half. */
  private static final Duration DRAIN = Duration.ofSeconds(4);

  @TempDir Path dir;

  @Test
  void webSocketsAreAllAnsweredAndEndedPolitelyByADrain() throws Exception {
    run(LongLivedClients.Kind.WS);
  }

  @Test
  void h2cStreamsAreAllAnsweredAndEndedPolitelyByADrain() throws Exception {
    run(LongLivedClients.Kind.H2C);
  }

  private void run(LongLivedClients.Kind kind) throws Exception {
    int port = freePort();
    Path log = dir.resolve("netty.log");
    var builder =
        new ProcessBuilder(
                JAVA,
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.baton.examples.NettyExample",
                Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("BATON_DRAIN_TIMEOUT", Long.toString(DRAIN.toMillis()));
    Process server = builder.start();
    try {
      var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      awaitListening(address, server);
      try (LongLivedClients fleet =
          LongLivedClients.start(
              kind,
              address,
              CLIENTS,
              Duration.ofMillis(200),
              Duration.ofMillis(300),
              Duration.ofMillis(500))) {
        Thread.sleep(3_000);
        var steady = await(fleet, t -> t.answered() == t.sent(), Duration.ofSeconds(2));
        assertThat(steady.connects()).as("%s", steady).isEqualTo(CLIENTS);
        assertThat(steady.open()).as("%s", steady).isEqualTo(CLIENTS);
        assertThat(steady.sent()).as("%s", steady).isGreaterThan(CLIENTS * 10L);
        assertThat(steady.answered()).as("%s", steady).isEqualTo(steady.sent());
        assertThat(steady.abnormalEnds()).as("%s", steady).isZero();
        assertThat(steady.failed()).as("%s", steady).isZero();
        assertThat(steady.connectFailures()).as("%s", steady).isZero();

        server.destroy(); // SIGTERM, to this pid alone
        var drained = await(fleet, t -> t.politeEnds() >= CLIENTS, DRAIN.plusSeconds(2));
        assertThat(drained.politeEnds())
            .as("%s\n%s", drained, text(log))
            .isGreaterThanOrEqualTo(CLIENTS);
        assertThat(drained.abnormalEnds()).as("%s", drained).isZero();
        assertThat(drained.failed()).as("%s", drained).isZero();
        assertThat(server.waitFor(DRAIN.toMillis() + 5_000, TimeUnit.MILLISECONDS))
            .as("the example exits after its drain")
            .isTrue();
        assertThat(server.exitValue()).as(text(log)).isZero();
        var last = fleet.tally();
        System.out.println(kind + " steady " + steady + "\n" + kind + " drained " + last);
        assertThat(last.abnormalEnds()).as("%s", last).isZero();
      }
    } finally {
      if (server.isAlive()) {
        server.destroyForcibly();
        server.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static LongLivedTally await(
      LongLivedClients fleet, Predicate<LongLivedTally> done, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    LongLivedTally tally = fleet.tally();
    while (!done.test(tally) && System.nanoTime() - deadline < 0) {
      Thread.sleep(20);
      tally = fleet.tally();
    }
    return tally;
  }

  private static void awaitListening(InetSocketAddress address, Process server)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() - deadline < 0) {
      assertThat(server.isAlive()).as("NettyExample exited early").isTrue();
      try (var probe = new Socket()) {
        probe.connect(address, 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("NettyExample did not listen on " + address + " within 20 s");
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String text(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
