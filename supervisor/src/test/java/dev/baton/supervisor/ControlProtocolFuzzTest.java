package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The control socket's request step (read a line, check it, before anything acts on it) fed lines
 * no client would send: random bytes, random JSON, and requests with the right shape but fields of
 * the wrong types. Each line is accepted as one known command with usable fields, or rejected with
 * {@code {"ok":false,"error":"malformed control message: …"}}; nothing else escapes, and nothing
 * hangs. 11,000 lines in all, from a new random seed each run.
 */
class ControlProtocolFuzzTest {
  private static final String PREFIX = "malformed control message: ";

  /** Wide: the test machines may be busy with other builds; a hang is caught all the same. */
  private static final Duration BUDGET = Duration.ofSeconds(5);

  private static final ExecutorService PARSER = Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().unstarted(r));

  private static final List<String> FIELDS = List.of("command", "argv", "env", "wait", "reason", "json", "", "Command");

  @BeforeAll
  static void warmUp() throws Exception {
    ControlServer.Request.parse("{\"command\":\"status\"}");
  }

  @AfterAll
  static void stopParser() {
    PARSER.shutdownNow();
  }

  /** Runs one line through the request step; true when accepted, false when rejected as it should be. */
  private static boolean acceptedOrRejectedClearly(String line) {
    var attempt = PARSER.submit(() -> {
      try {
        return (Object) ControlServer.Request.parse(line);
      } catch (ControlServer.MalformedRequest e) {
        return e;
      }
    });
    Object outcome;
    try {
      outcome = attempt.get(BUDGET.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      attempt.cancel(true);
      throw new AssertionError("the request step took over " + BUDGET.toSeconds() + "s (a hang?) on: " + line);
    } catch (ExecutionException e) {
      throw new AssertionError("the request step threw " + e.getCause() + " on: " + line, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (outcome instanceof ControlServer.MalformedRequest rejected) {
      // What the caller reads: the reply as it goes over the socket.
      var reply = ControlServer.JSON.readTree(ControlServer.JSON.writeValueAsString(rejected.reply()));
      assertThat(reply.path("ok").isBoolean() && !reply.path("ok").asBoolean()).as("ok is false in %s", reply).isTrue();
      var error = reply.path("error").asString("");
      assertThat(error).as("the error for %s", line).startsWith(PREFIX);
      assertThat(error.substring(PREFIX.length())).as("what is wrong, for %s", line).isNotBlank();
      assertThat(error.length()).as("a message to read, not an echo of the input: %s", error).isLessThan(600);
      return false;
    }
    var request = (ControlServer.Request) outcome;
    assertThat(ControlServer.COMMANDS).contains(request.command());
    if (request.command().equals("deploy")) {
      ControlServer.parseDeploy(request.fields()); // would have been rejected if it could throw
    }
    return true;
  }

  private static void fuzz(String what, int tries, Gen<String> lines) {
    var runs = new AtomicInteger();
    var accepted = new AtomicInteger();
    // A few more than promised: QuickTheories skips some repeats of the simplest values.
    qt().withExamples(tries + tries / 2).withShrinkCycles(50).forAll(lines).checkAssert(line -> {
      runs.incrementAndGet();
      if (acceptedOrRejectedClearly(line)) {
        accepted.incrementAndGet();
      }
    });
    System.out.printf("control fuzz, %s: %d lines, %d accepted, %d rejected clearly%n", what, runs.get(), accepted.get(), runs.get() - accepted.get());
    assertThat(runs.get()).isGreaterThanOrEqualTo(tries);
  }

  @Test
  void randomBytesAreRejectedClearly() {
    fuzz("random bytes", 4000, randomBytes());
  }

  @Test
  void randomJsonIsAcceptedOrRejectedClearly() {
    fuzz("random JSON", 4000, json(4));
  }

  @Test
  void requestsWithFieldsOfTheWrongTypesAreRejectedClearly() {
    fuzz("requests with random field types", 3000, requestShaped());
  }

  @Test
  void wellFormedRequestsAreAccepted() {
    qt().withExamples(1000).forAll(wellFormed()).checkAssert(line ->
        assertThat(acceptedOrRejectedClearly(line)).as("accepted: %s", line).isTrue());
  }

  @Test
  void nestingDeeperThanJacksonAllowsIsRejectedClearly() {
    assertThat(acceptedOrRejectedClearly("[".repeat(5000) + "]".repeat(5000))).isFalse();
    assertThat(acceptedOrRejectedClearly("{\"command\":\"deploy\",\"env\":" + "{\"a\":".repeat(3000) + "1" + "}".repeat(3001))).isFalse();
    assertThat(acceptedOrRejectedClearly("{\"command\":\"status\",\"n\":1" + "0".repeat(2000) + "}")).isIn(true, false);
    assertThat(acceptedOrRejectedClearly("\"" + "x".repeat(100_000) + "\"")).isFalse();
  }

  /** A line as the server sees it: bytes up to a newline, decoded as UTF-8 (bad bytes replaced). */
  private static Gen<String> randomBytes() {
    return lists().of(Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0)).ofSizeBetween(0, 200).map(list -> {
      var bytes = new byte[list.size()];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = list.get(i) == '\n' ? (byte) ' ' : list.get(i);
      }
      return new String(bytes, StandardCharsets.UTF_8);
    });
  }

  private static Gen<String> scalar() {
    return Generate.oneOf(
        Generate.pick(List.of("null", "true", "false", "0", "-0", "1e999", "-1", "3.25", "NaN", "\"\"", "\"status\"", "\"deploy\"",
            "\"rollback\"", "\"stop\"", "\"upgrade\"", "\"reopen-logs\"", "\"\\u0000\"", "\"\\ud800\"", "\"é🙂\"", "9223372036854775808")),
        longs().all().map(Object::toString),
        strings().allPossible().ofLengthBetween(0, 12).map(s -> ControlServer.JSON.writeValueAsString(s)));
  }

  /** Any JSON value, nested up to {@code depth}; keys favour the protocol's own. */
  private static Gen<String> json(int depth) {
    if (depth == 0) {
      return scalar();
    }
    var inner = json(depth - 1);
    var key = Generate.oneOf(Generate.pick(FIELDS), strings().basicLatinAlphabet().ofLengthBetween(0, 6))
        .map(k -> ControlServer.JSON.writeValueAsString(k));
    var member = key.zip(inner, (k, v) -> k + ":" + v);
    var object = lists().of(member).ofSizeBetween(0, 4).map(ms -> "{" + String.join(",", ms) + "}");
    var array = lists().of(inner).ofSizeBetween(0, 4).map(vs -> "[" + String.join(",", vs) + "]");
    return Generate.oneOf(scalar(), object, array);
  }

  /** {"command": one of ours (or not), and the protocol's fields with values of any type}. */
  private static Gen<String> requestShaped() {
    var command = Generate.oneOf(Generate.pick(ControlServer.COMMANDS).map(c -> "\"" + c + "\""), scalar());
    var field = Generate.pick(List.of("argv", "env", "wait", "reason")).zip(json(2), (k, v) -> ",\"" + k + "\":" + v);
    return command.zip(lists().of(field).ofSizeBetween(0, 4), (c, fs) -> "{\"command\":" + c + String.join("", fs) + "}");
  }

  /** Requests a client may send: every command, with fields of the right types. */
  private static Gen<String> wellFormed() {
    var word = strings().allPossible().ofLengthBetween(1, 10);
    var argv = lists().of(word).ofSizeBetween(1, 4);
    var env = lists().of(word).ofSizeBetween(0, 3);
    return Generate.pick(ControlServer.COMMANDS).zip(argv, env, integers().between(0, 3), (c, a, e, flags) -> {
      var node = ControlClient.request(c);
      if ((flags & 1) != 0) {
        node.put("wait", true);
      }
      if (c.equals("deploy")) {
        if ((flags & 2) != 0) {
          var array = node.putArray("argv");
          a.forEach(array::add);
        }
        var envNode = node.putObject("env");
        new ArrayList<>(e).forEach(k -> envNode.put(k, k + "-value"));
      }
      if (c.equals("rollback")) {
        node.put("reason", a.getFirst());
      }
      return ControlServer.JSON.writeValueAsString(node);
    });
  }
}
