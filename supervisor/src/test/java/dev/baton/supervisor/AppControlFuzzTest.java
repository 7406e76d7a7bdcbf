package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.DeployStep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BATON_CONTROL under generated input, as a hostile or broken generation would speak it: words
 * mutated, binary, lines past 4 KiB, pieces that arrive apart, HELLOs with the wrong number or from
 * the wrong pid, several connections at once, hang-ups. Nothing may escape the loop, no connection
 * may be left open beyond the one attached session, and parking must still work.
 */
class AppControlFuzzTest {
  @TempDir Path dir;

  @Test
  void generatedAppInputEscapesNoHandlerLeaksNoSessionAndParkingStillWorks() {
    long seed = Long.getLong("baton.fuzz.seed", 20261130L);
    var h = new Harness(dir);
    h.start();
    var fuzz = new FuzzInput(seed);
    var random = fuzz.random;
    var socket = dir.resolve("baton.sock.app");
    int fds = h.os.openFds().size();
    var valid =
        List.of(
            "HELLO 1",
            "HELLO 2",
            "HELLO",
            "READY",
            "STATUS warming caches",
            "PAUSED",
            "RESUMED",
            "OK",
            "ERROR no",
            "PAUSE",
            "RESUME",
            "DRAIN",
            "STATUS " + "s".repeat(100));
    int sent = 0;
    while (sent < FuzzInput.COUNT) {
      var callers = new ArrayList<FakeSockets.Connection>();
      var inputs = new ArrayList<List<byte[]>>();
      for (int k = 1 + random.nextInt(4); k > 0 && sent < FuzzInput.COUNT; k--, sent++) {
        var data = new java.io.ByteArrayOutputStream();
        if (random.nextBoolean()) {
          data.writeBytes("HELLO 1\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        for (int lines = random.nextInt(4); lines >= 0; lines--) {
          data.writeBytes(fuzz.line(valid, AppControl.MAX_LINE));
          if (random.nextInt(5) != 0) {
            data.write('\n');
          }
        }
        int pid =
            random.nextInt(10) == 0
                ? 1000 + 1 + random.nextInt(3)
                : 1000; // 1000: generation 1's main pid
        int uid = random.nextInt(50) == 0 ? 4000 : FakeOs.UID;
        callers.add(h.os.connect(socket, pid, uid));
        inputs.add(fuzz.pieces(data.toByteArray()));
      }
      fuzz.interleave(h, callers, inputs, 2000);
      for (var caller : callers) {
        if (random.nextInt(4) == 0) {
          caller.close();
        }
      }
      h.drive();
      assertThat(h.supervisor.loop().caught())
          .as("seed %d, input %d: %s", seed, sent, h.supervisor.loop().lastCaught())
          .isZero();
      if (sent % 256 < 4) {
        h.advance(Duration.ofSeconds(5).plus(LineChannel.LINGER));
        int session = h.live(1).session().isPresent() ? 1 : 0;
        assertThat(h.os.openFds()).as("seed %d, after input %d", seed, sent).hasSize(fds + session);
      }
    }
    h.advance(Duration.ofSeconds(5).plus(LineChannel.LINGER));
    int session = h.live(1).session().isPresent() ? 1 : 0;
    assertThat(h.os.openFds())
        .as("nothing but the attached session left open")
        .hasSize(fds + session);
    assertThat(h.os.violations).isEmpty();
    assertThat(h.supervisor.loop().caught()).isZero();
    assertThat(h.status().activeGeneration()).contains(1);
    // The real app connects last; its session replaces whatever the fuzz left, and it parks.
    var process = h.os.process(0);
    process.connectControl();
    h.drive();
    assertThat(process.heard).containsExactly("OK");
    assertThat(h.deployed().retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
    assertThat(process.heard).containsExactly("OK", "PAUSE");
    assertThat(h.supervisor.loop().caught()).isZero();
    System.out.printf("BATON_CONTROL fuzz: %d inputs, seed %d%n", sent, seed);
  }
}
