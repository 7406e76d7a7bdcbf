package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Codec;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's control socket under generated input: malformed, binary, huge, partial and slow
 * requests, several connections at once, callers that hang up early or are of another uid. Nothing
 * may escape the loop, every descriptor must come back, and a valid request must still work.
 */
class ControlFuzzTest {
  @TempDir Path dir;

  /**
   * Requests the fuzz may send whole: nothing that stops, re-executes or deploys the supervisor.
   */
  private static boolean harmless(byte[] line) {
    var text = new String(line, StandardCharsets.UTF_8);
    if (text.contains("\n")) {
      return true; // its first line may still be one; checked the same way
    }
    try {
      var request = Codec.decodeRequest(text);
      return request instanceof Request.GetStatus || request instanceof Request.ReopenLogs;
    } catch (MalformedRequest | RuntimeException e) {
      return true;
    }
  }

  private static boolean harmlessLines(byte[] data) {
    for (var line : new String(data, StandardCharsets.UTF_8).split("\n", -1)) {
      if (!harmless(line.getBytes(StandardCharsets.UTF_8))) {
        return false;
      }
    }
    return true;
  }

  @Test
  void generatedControlInputEscapesNoHandlerLeaksNoDescriptorAndStatusStillWorks() {
    long seed = Long.getLong("baton.fuzz.seed", 20261130L);
    var h = new Harness(dir);
    h.start();
    var fuzz = new FuzzInput(seed);
    var random = fuzz.random;
    int fds = h.os.openFds().size();
    var valid =
        List.of(
            Codec.encode(new Request.GetStatus()),
            Codec.encode(new Request.ReopenLogs()),
            Codec.encode(
                new Request.Deploy(
                    Optional.of(List.of("/bin/true", "v2")), Map.of("K", "V"), true)),
            Codec.encode(new Request.Rollback(Optional.of("why"), false)),
            Codec.encode(new Request.Stop()),
            "{\"command\":\"status\",\"unknown\":[1,2,{\"x\":null}]}");
    int sent = 0;
    int replies = 0;
    while (sent < FuzzInput.COUNT) {
      var callers = new ArrayList<FakeSockets.Connection>();
      var inputs = new ArrayList<List<byte[]>>();
      for (int k = 1 + random.nextInt(8); k > 0 && sent < FuzzInput.COUNT; k--, sent++) {
        var line = fuzz.line(valid, ControlServer.MAX_REQUEST);
        if (random.nextInt(5) != 0) {
          line = java.util.Arrays.copyOf(line, line.length + 1);
          line[line.length - 1] = '\n';
        }
        if (!harmlessLines(line)) {
          line = "{\"command\":\"status\"".getBytes(StandardCharsets.UTF_8); // cut short instead
        }
        int uid = random.nextInt(50) == 0 ? 4000 : FakeOs.UID;
        callers.add(h.connect(Harness.OPERATOR_PID + random.nextInt(3), uid));
        inputs.add(fuzz.pieces(line));
      }
      fuzz.interleave(h, callers, inputs, 3000);
      for (var caller : callers) {
        if (random.nextInt(6) == 0) {
          caller.close(); // gone before its answer
        }
      }
      h.drive();
      for (var caller : callers) {
        for (var reply : caller.lines()) {
          Codec.decodeMessage(
              reply); // every line the supervisor writes is a message of the protocol
          replies++;
        }
      }
      assertThat(h.supervisor.loop().caught())
          .as("seed %d, input %d: %s", seed, sent, h.supervisor.loop().lastCaught())
          .isZero();
      if (sent % 256 < 8) {
        h.advance(ControlServer.REQUEST_TIMEOUT.plus(LineChannel.LINGER));
        assertThat(h.os.openFds()).as("seed %d, after input %d", seed, sent).hasSize(fds);
      }
    }
    h.advance(ControlServer.REQUEST_TIMEOUT.plus(LineChannel.LINGER));
    assertThat(h.os.openFds()).as("no connection left open").hasSize(fds);
    assertThat(h.os.violations).isEmpty();
    assertThat(h.supervisor.loop().caught()).isZero();
    assertThat(replies).as("the supervisor answered").isGreaterThan(FuzzInput.COUNT / 4);
    assertThat(Harness.messages(h.request(new Request.GetStatus())))
        .containsExactly(new Reply.StatusReply(h.status()));
    assertThat(h.status().activeGeneration()).contains(1);
    System.out.printf("control fuzz: %d inputs, %d reply lines, seed %d%n", sent, replies, seed);
  }
}
