package dev.baton.bench;

import dev.baton.protocol.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What a long-lived run writes down while it goes: the generations serving, from the supervisor's
 * status every 100 ms, and every second the fleet's tally, the supervisor's RSS and the host's
 * MemAvailable; and, at the end, the hurried drains from the supervisor's /metrics.
 */
final class LongLivedSampler {
  private LongLivedSampler() {}

  /**
   * Every 100 ms the status; at each whole second the fleet's tally and the memory. Status over the
   * control socket is cheap next to a deploy, and a tick it misses is only a tick.
   */
  static Thread start(
      BatonService baton,
      long origin,
      int clients,
      LongLivedSamples samples,
      Supplier<@Nullable LongLivedClients> fleet) {
    return Thread.ofPlatform()
        .daemon()
        .name("long-lived samples")
        .start(
            () -> {
              var before = new LongLivedTally(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
              int serving = 0;
              int live = 0;
              long next = origin;
              for (long tick = 1; !Thread.currentThread().isInterrupted(); tick++) {
                next += LongLivedSamples.TICK_MILLIS * 1_000_000;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                  try {
                    Thread.sleep(Duration.ofNanos(wait));
                  } catch (InterruptedException e) {
                    return;
                  }
                }
                double at = LongLivedRun.secondsSince(origin);
                try {
                  var status = baton.status();
                  var t = new LongLivedSamples.Tick(at, serving(status), live(status));
                  samples.add(t);
                  serving = Math.max(serving, t.serving());
                  live = Math.max(live, t.live());
                } catch (RuntimeException e) {
                  // The supervisor is busy or going; the next tick will tell.
                }
                var open = fleet.get();
                if (tick % 10 == 0 && open != null) {
                  var now = open.tally();
                  samples.add(
                      LongLivedSamples.Second.between(
                          at,
                          before,
                          now,
                          clients,
                          serving,
                          live,
                          kibibytes(
                              Path.of("/proc/" + baton.supervisorPid().orElseThrow() + "/status"),
                              "VmRSS:"),
                          kibibytes(Path.of("/proc/meminfo"), "MemAvailable:")));
                  before = now;
                  serving = 0;
                  live = 0;
                }
              }
            });
  }

  /** Generations that may hold client connections: the active one and those draining. */
  static int serving(Status status) {
    return (int)
        status.generations().stream()
            .filter(g -> g.state().equals("active") || g.state().equals("draining"))
            .count();
  }

  /** Generations whose process is still there, in whatever state. */
  static int live(Status status) {
    return (int)
        status.generations().stream()
            .filter(
                g ->
                    g.pid() > 0
                        && ProcessHandle.of(g.pid()).map(ProcessHandle::isAlive).orElse(false))
            .count();
  }

  /** A "Key: 123 kB" line of a /proc file, in bytes; 0 when it cannot be read. */
  static long kibibytes(Path file, String key) {
    try {
      for (var line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Gone, or not Linux: no figure.
    }
    return 0;
  }

  /**
   * baton_drains_hurried_total from the supervisor's /metrics; empty when it cannot be read.
   * HTTP/1.0 over a plain socket: the answer ends with the connection, and bench needs no HTTP
   * client.
   */
  static OptionalLong hurried(int metricsPort) {
    try (var socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", metricsPort), 5000);
      socket.setSoTimeout(5000);
      socket
          .getOutputStream()
          .write(
              "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      return hurried(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  static OptionalLong hurried(String metrics) {
    for (var line : metrics.split("\n")) {
      if (line.startsWith("baton_drains_hurried_total ")) {
        return OptionalLong.of(
            (long) Double.parseDouble(line.substring("baton_drains_hurried_total ".length())));
      }
    }
    return OptionalLong.empty();
  }
}
