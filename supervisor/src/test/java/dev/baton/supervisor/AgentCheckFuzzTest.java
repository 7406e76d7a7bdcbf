package dev.baton.supervisor;

import static dev.baton.supervisor.AgentProbe.await;
import static dev.baton.supervisor.AgentProbe.check;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Generated inputs against a live responder on loopback: random bytes, long lines, partial lines,
 * hang-ups at once, resets, slow writers. Whatever comes, the responder answers with one of its
 * words or nothing, closes every connection by its deadline, keeps its one thread, and answers a
 * well-formed check at the end.
 *
 * <p>{@code -Dbaton.agent.fuzz.inputs=N} sets how many (100,000 by default); {@code
 * -Dbaton.agent.fuzz.seed=S} repeats a run (each input is generated from the seed and its number,
 * so one failing input can be replayed alone).
 */
class AgentCheckFuzzTest {
  private static final int INPUTS = Integer.getInteger("baton.agent.fuzz.inputs", 100_000);
  private static final long SEED = Long.getLong("baton.agent.fuzz.seed", System.nanoTime());
  private static final int WORKERS = 24;

  /** Every Nth input is a slow writer, run beside the others: each takes a second or two. */
  private static final int SLOW_EVERY = 1000;

  /** Longer than any deadline the responder keeps: a read that waits this long found a leak. */
  private static final Duration CLIENT_LIMIT = AgentCheck.DEADLINE.plusSeconds(4);

  private static final Set<String> WORDS = Set.of("", "up\n", "ready\n", "drain\n");

  private final AtomicBoolean drain = new AtomicBoolean();
  private final ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
  private final AtomicLong connectFailures = new AtomicLong();
  private final AtomicLong done = new AtomicLong();

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void noInputEndsTheThreadLeaksAConnectionOrGetsAnythingButAnAnswer() throws Exception {
    System.out.println(
        "AgentCheckFuzzTest: "
            + INPUTS
            + " inputs, seed "
            + SEED
            + " (-Dbaton.agent.fuzz.seed to repeat)");
    var check = AgentProbe.start(drain, 100);
    try {
      long started = System.nanoTime();
      var next = new AtomicInteger();
      var slow = new ConcurrentLinkedQueue<Future<?>>();
      var workers = new ArrayList<Thread>();
      for (int w = 0; w < WORKERS; w++) {
        workers.add(
            Thread.ofPlatform()
                .name("fuzz-" + w)
                .start(
                    () -> {
                      for (int i = next.getAndIncrement(); i < INPUTS; i = next.getAndIncrement()) {
                        // Both answers get exercised, and random texts fill the drained set to its
                        // bound.
                        drain.set((i / 2000) % 2 == 0);
                        int input = i;
                        if (i % SLOW_EVERY == 0) {
                          var task =
                              new java.util.concurrent.FutureTask<Void>(
                                  () -> run(check.address(), input), null);
                          Thread.ofVirtual().start(task);
                          slow.add(task);
                        } else {
                          run(check.address(), i);
                        }
                      }
                    }));
      }
      for (var worker : workers) {
        worker.join();
      }
      for (var task : slow) {
        task.get();
      }
      System.out.printf(
          "AgentCheckFuzzTest: %d inputs in %d ms; %d connect failures; accepted %d, answered %d, evicted %d,"
              + " expired %d, over the read limit %d, failed %d%n",
          done.get(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
          connectFailures.get(),
          check.counters().accepted.get(),
          check.counters().answered.get(),
          check.counters().evicted.get(),
          check.counters().expired.get(),
          check.counters().overRead.get(),
          check.counters().failed.get());

      assertThat(wrong).isEmpty();
      assertThat(done.get()).isEqualTo(INPUTS);
      assertThat(check.counters().accepted.get()).isEqualTo(INPUTS - connectFailures.get());
      assertThat(check.counters().unexpected.get()).isZero();
      assertThat(check.serving()).isTrue();
      assertThat(await(AgentCheck.DEADLINE.plusSeconds(5), () -> check.openConnections() == 0))
          .isTrue();
      assertThat(check.drainedCount().get(5, TimeUnit.SECONDS))
          .isLessThanOrEqualTo(AgentAnswers.MAX_DRAINED);

      // 127.0.0.1 sent none of the inputs: its key is fresh.
      drain.set(true);
      assertThat(check(check.address(), "web/app1\n")).isEqualTo("drain\n");
      drain.set(false);
      assertThat(check(check.address(), "web/app1\n")).isEqualTo("ready\n");
      assertThat(check(check.address(), "web/app1\n")).isEqualTo("up\n");
    } finally {
      check.close();
    }
    assertThat(check.serving()).isFalse();
  }

  /** Input {@code i}: generated from the seed and its number alone. */
  private void run(InetSocketAddress agent, int i) {
    var random = new SplittableRandom(SEED ^ (i * 0x9E3779B97F4A7C15L));
    // Several source addresses, so that connections closed in TIME_WAIT do not use up the ports.
    var source = InetAddress.ofLiteral("127.0.0." + (2 + i % 8));
    try (var socket = new Socket()) {
      socket.bind(new InetSocketAddress(source, 0));
      try {
        socket.connect(agent, 5000);
      } catch (IOException e) {
        connectFailures.incrementAndGet();
        return;
      }
      if (i % SLOW_EVERY == 0) {
        slowWriter(socket, random, i);
      } else {
        exchange(socket, random, i);
      }
    } catch (SocketTimeoutException e) {
      wrong.add(
          "input " + i + ": the responder neither answered nor closed within " + CLIENT_LIMIT);
    } catch (IOException e) {
      // A reset or a broken pipe: the responder cut the input off, as it may.
    } finally {
      done.incrementAndGet();
    }
  }

  private void exchange(Socket socket, SplittableRandom random, int i) throws IOException {
    int kind = random.nextInt(100);
    var out = socket.getOutputStream();
    if (kind < 25) {
      return; // connect and hang up at once
    }
    if (kind < 35) {
      socket.setSoLinger(true, 0); // connect and reset
      return;
    }
    if (kind < 55) {
      out.write(bytes(random, 1 + random.nextInt(600), false)); // random bytes, then hang up
      return;
    }
    if (kind < 75) {
      out.write(
          (text(random, random.nextInt(300)) + (random.nextBoolean() ? "\n" : "\r\n"))
              .getBytes(StandardCharsets.ISO_8859_1));
      expectAnswer(socket, i);
      return;
    }
    if (kind < 85) {
      out.write(bytes(random, AgentCheck.MAX_SEND + random.nextInt(5000), true)); // a long line
      expectAnswer(socket, i);
      return;
    }
    if (kind < 99) {
      out.write(bytes(random, random.nextInt(50), true)); // a partial line, then half a hang-up
      socket.shutdownOutput();
      expectAnswer(socket, i);
      return;
    }
    out.write(bytes(random, 1 + random.nextInt(100), false)); // random bytes, then wait for the end
    expectAnswer(socket, i);
  }

  /** Trickles until a write is refused: only then has the responder closed, not just answered. */
  private void slowWriter(Socket socket, SplittableRandom random, int i) throws IOException {
    var out = socket.getOutputStream();
    socket.setSoTimeout(1);
    var heard = new StringBuilder();
    boolean answerOver = false;
    long end = System.nanoTime() + CLIENT_LIMIT.toNanos();
    try {
      while (System.nanoTime() < end) {
        try {
          out.write(random.nextInt(256));
        } catch (IOException e) {
          if (!WORDS.contains(heard.toString())) {
            wrong.add(
                "input " + i + ": a slow writer heard " + heard.toString().replace("\n", "\\n"));
          }
          return;
        }
        try {
          while (!answerOver) {
            int b = socket.getInputStream().read();
            if (b < 0) {
              answerOver = true;
            } else {
              heard.append((char) b);
            }
          }
        } catch (SocketTimeoutException e) {
          // nothing more yet
        } catch (IOException e) {
          return; // reset
        }
        Thread.sleep(50 + random.nextInt(250));
      }
      wrong.add("input " + i + ": a slow writer was not closed within " + CLIENT_LIMIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void expectAnswer(Socket socket, int i) throws IOException {
    socket.setSoTimeout((int) CLIENT_LIMIT.toMillis());
    var answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    if (!WORDS.contains(answer)) {
      wrong.add("input " + i + " got " + answer.replace("\n", "\\n"));
    }
  }

  private static byte[] bytes(SplittableRandom random, int n, boolean noNewline) {
    var bytes = new byte[n];
    random.nextBytes(bytes);
    if (noNewline) {
      for (int k = 0; k < n; k++) {
        if (bytes[k] == '\n') {
          bytes[k] = 'n';
        }
      }
    }
    return bytes;
  }

  private static String text(SplittableRandom random, int n) {
    var text = new StringBuilder(n);
    for (int k = 0; k < n; k++) {
      text.append((char) (' ' + random.nextInt(95)));
    }
    return text.toString();
  }
}
