package dev.baton.supervisor;

import static dev.baton.supervisor.AgentProbe.await;
import static dev.baton.supervisor.AgentProbe.check;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.UnixOperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A thousand clients that trickle a byte every 0.9 s, all at once, and a real check among them. */
class AgentCheckFloodTest {
  private static final int FLOOD = 1000;
  private static final Duration EVERY = Duration.ofMillis(900);

  /**
   * Generous: accept may lag connect under the burst, and the machine is shared. A close is seen
   * when a write fails, the second after it (the first draws the reset): up to two ticks late.
   */
  private static final Duration MARGIN = EVERY.multipliedBy(2).plusSeconds(2);

  /** One trickling client: when it connected, what it heard, when a write was refused. */
  private static final class Slow {
    final SocketChannel channel;
    final long connectedAt;
    final StringBuilder heard = new StringBuilder();
    boolean endOfAnswer;
    long closedAt;

    Slow(SocketChannel channel, long connectedAt) {
      this.channel = channel;
      this.connectedAt = connectedAt;
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aThousandSlowConnectionsAreAllClosedByTheDeadlineAndARealCheckIsAnsweredMeanwhile()
      throws Exception {
    long maxFds =
        ((UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getMaxFileDescriptorCount();
    // The flood's clients, the responder's connections and the JVM's own files, in one process.
    assumeTrue(
        maxFds >= FLOOD + 1024,
        "this JVM may open " + maxFds + " files; the flood needs " + (FLOOD + 1024));
    var check = AgentProbe.start(new AtomicBoolean(), 100);
    var flood = new ArrayList<Slow>();
    try (var selector = Selector.open()) {
      var client = new Client(selector, flood);
      for (int i = 0; i < FLOOD; i++) {
        var channel = SocketChannel.open();
        // Several source addresses, so that the flood's TIME_WAITs do not use up one address's
        // ports.
        channel.bind(new InetSocketAddress(InetAddress.ofLiteral("127.0.0." + (2 + i % 8)), 0));
        channel.connect(check.address());
        var slow = new Slow(channel, System.nanoTime());
        flood.add(slow);
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ, slow);
        client.trickle(slow);
        // Ends are seen as they come, not once the whole flood is connected: they are timed.
        client.pump(0);
      }

      var answer = check(check.address(), "web/app1\n");
      long answeredAt = System.nanoTime();
      assertThat(answer).isEqualTo("up\n");

      long giveUp = System.nanoTime() + AgentCheck.DEADLINE.plus(MARGIN).plusSeconds(10).toNanos();
      int open = client.open();
      while (open > 0 && System.nanoTime() < giveUp) {
        client.pump(50);
        open = client.open();
      }

      assertThat(open).as("flood connections still open").isZero();
      long lastClosed = 0;
      for (var slow : flood) {
        assertThat(Duration.ofNanos(slow.closedAt - slow.connectedAt))
            .isLessThanOrEqualTo(AgentCheck.DEADLINE.plus(MARGIN));
        // No newline ever came: each hears "up" once the wait for agent-send is over, or nothing
        // when a newer connection took its place first.
        assertThat(slow.heard.toString()).isIn("", "up\n");
        lastClosed = Math.max(lastClosed, slow.closedAt);
      }
      System.out.printf(
          "AgentCheckFloodTest: the latest close came %d ms after its connect; the check was answered %d ms"
              + " before the flood's last close%n",
          flood.stream().mapToLong(s -> s.closedAt - s.connectedAt).max().orElse(0) / 1_000_000,
          (lastClosed - answeredAt) / 1_000_000);
      assertThat(lastClosed)
          .as("the flood was still on when the check was answered")
          .isGreaterThan(answeredAt);
      assertThat(check.counters().accepted.get()).isEqualTo(FLOOD + 1);
      assertThat(check.counters().unexpected.get()).isZero();
      assertThat(check.serving()).isTrue();
      assertThat(await(Duration.ofSeconds(5), () -> check.openConnections() == 0)).isTrue();
    } finally {
      for (var slow : flood) {
        slow.channel.close();
      }
      check.close();
    }
  }

  /** The flood's side: reads what each hears, sees each end, and trickles a byte every 0.9 s. */
  private static final class Client {
    private final Selector selector;
    private final List<Slow> flood;
    private final ByteBuffer buffer = ByteBuffer.allocate(64);
    private final ByteBuffer tick = ByteBuffer.allocate(1);
    private long nextTick = System.nanoTime() + EVERY.toNanos();

    Client(Selector selector, List<Slow> flood) {
      this.selector = selector;
      this.flood = flood;
    }

    void pump(long waitMillis) throws IOException {
      if (waitMillis == 0) {
        selector.selectNow();
      } else {
        selector.select(waitMillis);
      }
      for (var key : selector.selectedKeys()) {
        var slow = (Slow) key.attachment();
        buffer.clear();
        int n;
        try {
          n = slow.channel.read(buffer);
        } catch (IOException e) {
          ended(slow); // reset: the responder closed it with our bytes unread
          continue;
        }
        if (n < 0 && !slow.endOfAnswer) {
          // The answer is over (the responder shut its output); the connection is not closed until
          // a write is refused. EOF stays readable: stop watching it.
          slow.endOfAnswer = true;
          key.interestOps(0);
        } else if (n < 0) {
          ended(slow);
        } else {
          slow.heard.append(new String(buffer.array(), 0, n, StandardCharsets.US_ASCII));
        }
      }
      selector.selectedKeys().clear();
      if (System.nanoTime() - nextTick >= 0) {
        nextTick += EVERY.toNanos();
        for (var slow : flood) {
          trickle(slow);
        }
      }
    }

    int open() {
      return (int) flood.stream().filter(s -> s.closedAt == 0).count();
    }

    void trickle(Slow slow) {
      if (slow.closedAt != 0) {
        return;
      }
      try {
        tick.clear();
        tick.put((byte) 'x').flip();
        slow.channel.write(tick);
      } catch (IOException e) {
        ended(slow);
      }
    }
  }

  private static void ended(Slow slow) {
    if (slow.closedAt == 0) {
      slow.closedAt = System.nanoTime();
      try {
        slow.channel.close();
      } catch (IOException e) {
        // closed either way
      }
    }
  }
}
