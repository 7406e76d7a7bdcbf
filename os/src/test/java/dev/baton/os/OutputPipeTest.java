package dev.baton.os;

import static dev.baton.os.Reaping.awaitExit;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A generation's output pipes read without blocking, as the event loop reads them. */
class OutputPipeTest {
  private final Os os = Os.linux();
  private final List<ChildProcess> children = new ArrayList<>();

  @TempDir Path workdir;

  @AfterEach
  void killEveryChild() {
    for (var child : children) {
      child.signal(Signal.KILL);
      awaitExit(child);
    }
  }

  private ChildProcess spawn(String script) {
    var env = Map.of("PATH", System.getenv("PATH"));
    var child =
        os.spawn(
            new SpawnSpec(
                List.of("/bin/sh", "-c", script), env, workdir, Optional.empty(), List.of()));
    children.add(child);
    return child;
  }

  /** Polls until stdout has {@code expected}, or EOF; what was read. */
  private static String readWithPoller(Poller poller, PipeInput stdout, String expected)
      throws Exception {
    var out = new ByteArrayOutputStream();
    var buffer = new byte[4096];
    var tokens = new long[1];
    var events = new int[1];
    while (!out.toString(UTF_8).equals(expected)) {
      assertThat(poller.poll(tokens, events, 10_000)).as("readable within 10 s").isEqualTo(1);
      int n = stdout.readNow(buffer);
      if (n == -1) {
        break;
      }
      out.write(buffer, 0, n);
    }
    return out.toString(UTF_8);
  }

  @Test
  void readNowTakesWhatIsThereThenZeroThenMinusOneAtEof() throws Exception {
    var child = spawn("echo hello; read line < /dev/null; exec sleep 30");
    var stdout = child.stdout();
    try (var poller = os.poller()) {
      var fd = stdout.fd().orElseThrow();
      poller.watch(fd, Poller.READABLE, 9);

      assertThat(readWithPoller(poller, stdout, "hello\n")).isEqualTo("hello\n");
      assertThat(stdout.readNow(new byte[64])).as("nothing more yet").isZero();
      assertThat(nonBlocking(fd)).isTrue();

      child.signal(Signal.KILL); // the last writer: EOF
      assertThat(readWithPoller(poller, stdout, "never")).isEmpty();
      assertThat(stdout.readNow(new byte[64])).isEqualTo(-1);
      assertThat(stdout.fd()).as("still open: the loop unwatches, then closes").isPresent();
      poller.unwatch(fd);
      stdout.close();
      assertThat(stdout.fd()).isEmpty();
    }
  }

  /** After readNow made the pipe non-blocking, read() still blocks until data comes. */
  @Test
  void theBlockingReadStillWaitsOnceThePipeIsNonBlocking() throws Exception {
    var child = spawn("read line < /dev/null; sleep 0.3; echo late");
    assertThat(child.stdout().readNow(new byte[16])).isZero();

    assertThat(new String(child.stdout().readAllBytes(), UTF_8)).isEqualTo("late\n");
    assertThat(awaitExit(child)).isEqualTo(ExitStatus.exited(0));
  }

  @Test
  void anEmptyPipeInputHasNoDescriptorAndIsAtEof() throws Exception {
    assertThat(PipeInput.empty().fd()).isEmpty();
    assertThat(PipeInput.empty().readNow(new byte[4])).isEqualTo(-1);
  }

  private static boolean nonBlocking(Fd fd) throws Exception {
    var flags =
        Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.value())).stream()
            .filter(line -> line.startsWith("flags:"))
            .findFirst()
            .orElseThrow();
    return (Integer.parseInt(flags.substring(6).strip(), 8) & LibcEvents.O_NONBLOCK) != 0;
  }
}
