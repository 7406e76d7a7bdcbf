package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The app's end of BATON_CONTROL against a stand-in supervisor: a Unix socket in a temporary
 * directory that the test reads and writes line by line.
 */
class BatonTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final PrintStream stderr = new PrintStream(log, true, StandardCharsets.UTF_8);
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final Baton.Acceptor acceptor =
      new Baton.Acceptor() {
        @Override
        public void pause() {
          calls.add("pause");
        }

        @Override
        public void resume() {
          calls.add("resume");
        }
      };

  private Baton baton;
  private ServerSocketChannel supervisor;

  @AfterEach
  void closeEverything() throws IOException {
    if (baton != null) {
      baton.close();
    }
    if (supervisor != null) {
      supervisor.close();
    }
  }

  @Test
  void outsideBatonItIsDetachedDoesNothingAndSaysSoInOneLine() {
    baton = Baton.connect(acceptor, Map.of(), stderr);

    baton.ready();
    baton.status("fine");

    assertThat(baton.supervised()).isFalse();
    assertThat(baton.startPaused()).isFalse();
    assertThat(log())
        .isEqualTo(
            "baton-app: no BATON_CONTROL, so not under baton: ready, status, pause and resume do"
                + " nothing\n");
    assertThat(calls).isEmpty();
  }

  @Test
  void saysHelloWithItsGenerationThenReadyAndStatus() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    baton = Baton.connect(acceptor, env(path), stderr);
    try (var app = accepted.join()) {
      baton.ready();
      baton.status("serving\nwell");

      assertThat(app.line()).isEqualTo("HELLO 7");
      assertThat(app.line()).isEqualTo("READY");
      assertThat(app.line()).isEqualTo("STATUS serving well");
      assertThat(baton.supervised()).isTrue();
      assertThat(baton.startPaused()).isTrue();
    }
  }

  @Test
  void pausesAndResumesWhenToldAndAnswersOnlyOnceDone() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    baton = Baton.connect(acceptor, env(path), stderr);
    try (var app = accepted.join()) {
      assertThat(app.line()).isEqualTo("HELLO 7");

      app.say("PAUSE");
      assertThat(app.line()).isEqualTo("PAUSED");
      assertThat(calls).containsExactly("pause");
      app.say("RESUME");
      assertThat(app.line()).isEqualTo("RESUMED");
      assertThat(calls).containsExactly("pause", "resume");
    }
  }

  @Test
  void aFailedPauseIsNotAnsweredSoTheSupervisorDoesNotParkIt() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    Baton.Acceptor broken =
        new Baton.Acceptor() {
          @Override
          public void pause() {
            throw new IllegalStateException("stuck");
          }

          @Override
          public void resume() {}
        };
    baton = Baton.connect(broken, env(path), stderr);
    try (var app = accepted.join()) {
      assertThat(app.line()).isEqualTo("HELLO 7");

      app.say("PAUSE");
      app.say("RESUME");

      assertThat(app.line()).isEqualTo("RESUMED");
      assertThat(log()).contains("pause failed").contains("stuck");
    }
  }

  @Test
  void reconnectsAfterTheSupervisorRestartsAndSaysHelloAndReadyAgain() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    baton = Baton.connect(acceptor, env(path), stderr);
    try (var app = accepted.join()) {
      baton.ready();
      baton.status("warm");
      assertThat(app.line()).isEqualTo("HELLO 7");
      assertThat(app.line()).isEqualTo("READY");
    }
    // The supervisor dies, its socket file with it, and a new one comes back at the same path.
    supervisor.close();
    Files.delete(path);
    Thread.sleep(400);
    listen();

    try (var app = acceptAndWelcomeLater().join()) {
      assertThat(app.line()).isEqualTo("HELLO 7");
      assertThat(app.line()).isEqualTo("READY");
      assertThat(app.line()).isEqualTo("STATUS warm");
      app.say("PAUSE");
      assertThat(app.line()).isEqualTo("PAUSED");
    }
    assertThat(log()).contains("cannot reach the supervisor").contains("reconnected");
  }

  @Test
  void drainNowRunsTheActionsOnTheControlThreadOnceAndUnknownWordsAreIgnored() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    baton = Baton.connect(acceptor, env(path), stderr);
    var threads = new CopyOnWriteArrayList<String>();
    baton.onDrainNow(() -> threads.add("first on " + Thread.currentThread().getName()));
    baton.onDrainNow(
        () -> {
          throw new IllegalStateException("websockets already gone");
        });
    baton.onDrainNow(() -> threads.add("third on " + Thread.currentThread().getName()));
    try (var app = accepted.join()) {
      assertThat(app.line()).isEqualTo("HELLO 7");

      app.say("HURRY-UP 3"); // a word from a newer supervisor
      app.say("DRAIN-NOW");
      app.say("DRAIN-NOW");
      app.say("PAUSE"); // answered after the actions: commands run in order
      assertThat(app.line()).isEqualTo("PAUSED");

      assertThat(threads).containsExactly("first on baton-control", "third on baton-control");
      assertThat(log())
          .contains("the supervisor says DRAIN-NOW")
          .contains("an onDrainNow action failed")
          .contains("websockets already gone");

      // Added after DRAIN-NOW, an action runs at once.
      baton.onDrainNow(() -> threads.add("late"));
      assertThat(threads).endsWith("late");
    }
  }

  @Test
  void theDrainTimeoutIsReadFromBatonDrainTimeoutInMilliseconds() throws Exception {
    Path path = listen();
    var accepted = acceptAndWelcomeLater();
    var env = new java.util.HashMap<>(env(path));
    env.put("BATON_DRAIN_TIMEOUT", "3600000");
    baton = Baton.connect(acceptor, env, stderr);
    accepted.join().close();
    assertThat(baton.drainTimeout()).contains(Duration.ofHours(1));

    assertThat(Baton.drainTimeout(null)).isEmpty();
    assertThat(Baton.drainTimeout("10s")).isEmpty();
    assertThat(Baton.drainTimeout("0")).isEmpty();
    assertThat(Baton.drainTimeout("-5")).isEmpty();
    assertThat(Baton.drainTimeout("1500")).contains(Duration.ofMillis(1500));
    // Outside baton it is not set, and a detached Baton has none to give.
    try (var detached = Baton.connect(acceptor, Map.of(), stderr)) {
      assertThat(detached.drainTimeout()).isEmpty();
      detached.onDrainNow(() -> calls.add("never"));
    }
    assertThat(calls).isEmpty();
  }

  @Test
  void aRefusedProcessIsDetachedAndDoesNotStartPaused() throws Exception {
    Path path = listen();
    var refusal =
        CompletableFuture.runAsync(
            () -> {
              try (var app = new FakeApp(supervisor.accept())) {
                app.say("ERROR pid 42 is no live generation's main process");
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            });

    baton = Baton.connect(acceptor, env(path), stderr);
    refusal.join();

    assertThat(baton.supervised()).isFalse();
    assertThat(baton.startPaused()).isFalse();
    assertThat(log())
        .contains(
            "the supervisor refused this process: pid 42 is no live generation's main process");
  }

  private Path listen() throws IOException {
    Path path = dir.resolve("baton.sock.app");
    supervisor = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    supervisor.bind(UnixDomainSocketAddress.of(path));
    return path;
  }

  /** Accepts the app's connection and says OK, as the supervisor does once it knows the app. */
  private CompletableFuture<FakeApp> acceptAndWelcomeLater() {
    ServerSocketChannel server = supervisor;
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            FakeApp app = new FakeApp(server.accept());
            app.say("OK");
            return app;
          } catch (IOException e) {
            throw new AssertionError(e);
          }
        });
  }

  private static Map<String, String> env(Path path) {
    return Map.of(
        "BATON_CONTROL", path.toString(), "BATON_GENERATION", "7", "BATON_START", "paused");
  }

  private String log() {
    return log.toString(StandardCharsets.UTF_8);
  }

  /** The supervisor's side of one connection, read a line at a time with a deadline. */
  private static final class FakeApp implements AutoCloseable {
    private final SocketChannel channel;
    private final StringBuilder pending = new StringBuilder();

    FakeApp(SocketChannel channel) {
      this.channel = channel;
    }

    void say(String line) throws IOException {
      channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    String line() throws IOException {
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      ByteBuffer buffer = ByteBuffer.allocate(256);
      while (pending.indexOf("\n") < 0) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no line from the app within 5 s; got '" + pending + "'");
        }
        buffer.clear();
        if (channel.read(buffer) < 0) {
          throw new AssertionError("the app closed the connection; got '" + pending + "'");
        }
        pending.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII));
      }
      int end = pending.indexOf("\n");
      String line = pending.substring(0, end);
      pending.delete(0, end + 1);
      return line;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
