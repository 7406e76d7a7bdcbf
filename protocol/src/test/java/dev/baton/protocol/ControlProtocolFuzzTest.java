package dev.baton.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The supervisor's request step ({@link Codec#decodeRequest}: read a line, check it, before
 * anything acts on it) fed lines no client would send: random bytes, random JSON, and requests with
 * the right shape but fields of the wrong types. Each line is accepted as a {@link Request}, or
 * rejected with a {@link MalformedRequest} whose reply is {@code {"ok":false,"error":"malformed
 * control message: …"}}; nothing else escapes, and nothing hangs. Over 100,000 lines in all, from a
 * new random seed each run; and the client's step ({@link Codec#decodeMessage}) fed the same.
 */
class ControlProtocolFuzzTest {
  private static final String PREFIX = "malformed control message: ";

  /** Wide: the test machines may be busy with other builds; a hang is caught all the same. */
  private static final Duration BUDGET = Duration.ofSeconds(5);

  private static final ExecutorService PARSER =
      Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  private static final JsonMapper QUOTE = new JsonMapper();

  private static final List<String> FIELDS =
      List.of("command", "argv", "env", "wait", "reason", "json", "", "Command");

  @BeforeAll
  static void warmUp() throws Exception {
    Codec.decodeRequest("{\"command\":\"status\"}");
  }

  @AfterAll
  static void stopParser() {
    PARSER.shutdownNow();
  }

  private interface Step {
    Request decode(String line) throws MalformedRequest;
  }

  /**
   * Runs one line through the request step; true when accepted, false when rejected as it should
   * be.
   */
  private static boolean acceptedOrRejectedClearly(String line) {
    return acceptedOrRejectedClearly(line, Codec::decodeRequest);
  }

  private static boolean acceptedOrRejectedClearly(String line, Step step) {
    var outcome =
        withinBudget(
            line,
            () -> {
              try {
                return step.decode(line);
              } catch (MalformedRequest e) {
                return e;
              }
            });
    if (outcome instanceof MalformedRequest rejected) {
      // What the caller reads: the reply as it goes over the socket.
      var reply = Codec.decodeMessage(Codec.encode(rejected.reply()));
      assertThat(reply).isInstanceOf(Reply.Failed.class);
      var error = ((Reply.Failed) reply).error();
      assertThat(error).as("the error for %s", line).startsWith(PREFIX);
      assertThat(error.substring(PREFIX.length())).as("what is wrong, for %s", line).isNotBlank();
      assertThat(error.length())
          .as("a message to read, not an echo of the input: %s", error)
          .isLessThan(600);
      return false;
    }
    var request = (Request) outcome;
    // What was accepted goes over the wire and back unchanged.
    assertThat(withinBudget(line, () -> Codec.decodeRequest(Codec.encode(request))))
        .isEqualTo(request);
    return true;
  }

  private static Object withinBudget(String line, java.util.concurrent.Callable<Object> step) {
    var attempt = PARSER.submit(step);
    try {
      return attempt.get(BUDGET.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      attempt.cancel(true);
      throw new AssertionError(
          "the request step took over " + BUDGET.toSeconds() + "s (a hang?) on: " + line);
    } catch (ExecutionException e) {
      throw new AssertionError(
          "the request step threw " + e.getCause() + " on: " + line, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static int fuzz(
      String what, int tries, Gen<String> lines, Function<String, Boolean> check) {
    var runs = new AtomicInteger();
    var accepted = new AtomicInteger();
    // A few more than promised: QuickTheories skips some repeats of the simplest values.
    qt().withExamples(tries + tries / 2)
        .withShrinkCycles(50)
        .forAll(lines)
        .checkAssert(
            line -> {
              runs.incrementAndGet();
              if (check.apply(line)) {
                accepted.incrementAndGet();
              }
            });
    System.out.printf(
        "control fuzz, %s: %d lines, %d accepted, %d rejected clearly%n",
        what, runs.get(), accepted.get(), runs.get() - accepted.get());
    assertThat(runs.get()).isGreaterThanOrEqualTo(tries);
    return runs.get();
  }

  @Test
  void randomBytesAreRejectedClearly() {
    fuzz("random bytes", 30_000, randomBytes(), ControlProtocolFuzzTest::acceptedOrRejectedClearly);
  }

  @Test
  void randomJsonIsAcceptedOrRejectedClearly() {
    fuzz("random JSON", 30_000, json(4), ControlProtocolFuzzTest::acceptedOrRejectedClearly);
  }

  @Test
  void requestsWithFieldsOfTheWrongTypesAreRejectedClearly() {
    fuzz(
        "requests with random field types",
        30_000,
        requestShaped(),
        ControlProtocolFuzzTest::acceptedOrRejectedClearly);
  }

  @Test
  void remoteApiBodiesAreAcceptedOrRejectedClearly() {
    var commands =
        Generate.oneOf(
            Generate.pick(Codec.COMMANDS), strings().basicLatinAlphabet().ofLengthBetween(0, 8));
    var bodies = Generate.oneOf(json(3), randomBytes(), Generate.constant(""));
    fuzz(
        "remote API bodies",
        10_000,
        commands.zip(bodies, (c, b) -> c + "\n" + b),
        line -> {
          var split = line.indexOf('\n');
          return acceptedOrRejectedClearly(
              line, l -> Codec.decodeRequest(l.substring(0, split), l.substring(split + 1)));
        });
  }

  @Test
  void wellFormedRequestsAreAccepted() {
    qt().withExamples(2000)
        .forAll(wellFormed())
        .checkAssert(
            line -> assertThat(acceptedOrRejectedClearly(line)).as("accepted: %s", line).isTrue());
  }

  /**
   * A client reading a supervisor that is not one: only IllegalArgumentException, which it reports.
   */
  @Test
  void serverLinesAreReadOrRejectedClearly() {
    fuzz(
        "server lines",
        10_000,
        Generate.oneOf(json(4), randomBytes()),
        line -> {
          var outcome =
              withinBudget(
                  line,
                  () -> {
                    try {
                      return Codec.decodeMessage(line);
                    } catch (IllegalArgumentException e) {
                      return e;
                    }
                  });
          if (outcome instanceof IllegalArgumentException e) {
            assertThat(e.getMessage())
                .startsWith("not a line of baton's control protocol")
                .hasSizeLessThan(600);
            return false;
          }
          return true;
        });
  }

  @Test
  void nestingDeeperThanJacksonAllowsIsRejectedClearly() {
    assertThat(acceptedOrRejectedClearly("[".repeat(5000) + "]".repeat(5000))).isFalse();
    assertThat(
            acceptedOrRejectedClearly(
                "{\"command\":\"deploy\",\"env\":"
                    + "{\"a\":".repeat(3000)
                    + "1"
                    + "}".repeat(3001)))
        .isFalse();
    assertThat(
            acceptedOrRejectedClearly("{\"command\":\"status\",\"n\":1" + "0".repeat(2000) + "}"))
        .isIn(true, false);
    assertThat(acceptedOrRejectedClearly("\"" + "x".repeat(100_000) + "\"")).isFalse();
  }

  /** A line as the server sees it: bytes up to a newline, decoded as UTF-8 (bad bytes replaced). */
  private static Gen<String> randomBytes() {
    return lists()
        .of(Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0))
        .ofSizeBetween(0, 200)
        .map(
            list -> {
              var bytes = new byte[list.size()];
              for (int i = 0; i < bytes.length; i++) {
                bytes[i] = list.get(i) == '\n' ? (byte) ' ' : list.get(i);
              }
              return new String(bytes, StandardCharsets.UTF_8);
            });
  }

  private static Gen<String> scalar() {
    return Generate.oneOf(
        Generate.pick(
            List.of(
                "null",
                "true",
                "false",
                "0",
                "-0",
                "1e999",
                "-1",
                "3.25",
                "NaN",
                "\"\"",
                "\"status\"",
                "\"deploy\"",
                "\"rollback\"",
                "\"stop\"",
                "\"upgrade\"",
                "\"reopen-logs\"",
                "\"\\u0000\"",
                "\"\\ud800\"",
                "\"é🙂\"",
                "9223372036854775808",
                "\"spawned\"",
                "\"promoted\"")),
        longs().all().map(Object::toString),
        strings().allPossible().ofLengthBetween(0, 12).map(ControlProtocolFuzzTest::quoted));
  }

  /** Any JSON value, nested up to {@code depth}; keys favour the protocol's own, both ways. */
  private static Gen<String> json(int depth) {
    if (depth == 0) {
      return scalar();
    }
    var inner = json(depth - 1);
    var key =
        Generate.oneOf(
                Generate.pick(FIELDS),
                Generate.pick(
                    List.of(
                        "ok",
                        "event",
                        "status",
                        "generation",
                        "pid",
                        "upgrading",
                        "error",
                        "file",
                        "elapsed_ms")),
                strings().basicLatinAlphabet().ofLengthBetween(0, 6))
            .map(ControlProtocolFuzzTest::quoted);
    var member = key.zip(inner, (k, v) -> k + ":" + v);
    var object = lists().of(member).ofSizeBetween(0, 4).map(ms -> "{" + String.join(",", ms) + "}");
    var array = lists().of(inner).ofSizeBetween(0, 4).map(vs -> "[" + String.join(",", vs) + "]");
    return Generate.oneOf(scalar(), object, array);
  }

  /** {"command": one of ours (or not), and the protocol's fields with values of any type}. */
  private static Gen<String> requestShaped() {
    var command =
        Generate.oneOf(
            Generate.pick(Codec.COMMANDS).map(ControlProtocolFuzzTest::quoted), scalar());
    var field =
        Generate.pick(List.of("argv", "env", "wait", "reason"))
            .zip(json(2), (k, v) -> ",\"" + k + "\":" + v);
    return command.zip(
        lists().of(field).ofSizeBetween(0, 4),
        (c, fs) -> "{\"command\":" + c + String.join("", fs) + "}");
  }

  /** Requests a client may send: every kind, with fields of the right types. */
  private static Gen<String> wellFormed() {
    var word = strings().allPossible().ofLengthBetween(1, 10);
    var argv = lists().of(word).ofSizeBetween(1, 4);
    var env = lists().of(word).ofSizeBetween(0, 3);
    return integers()
        .between(0, 5)
        .zip(
            argv,
            env,
            integers().between(0, 3),
            (kind, a, e, flags) -> {
              boolean wait = (flags & 1) != 0;
              var variables = new LinkedHashMap<String, String>();
              e.forEach(k -> variables.put(k, k + "-value"));
              Request request =
                  switch (kind) {
                    case 0 ->
                        new Request.Deploy(
                            (flags & 2) != 0 ? Optional.of(a) : Optional.empty(), variables, wait);
                    case 1 ->
                        new Request.Rollback(
                            (flags & 2) != 0 ? Optional.of(a.getFirst()) : Optional.empty(), wait);
                    case 2 -> new Request.GetStatus();
                    case 3 -> new Request.Stop();
                    case 4 -> new Request.Upgrade();
                    default -> new Request.ReopenLogs();
                  };
              return Codec.encode(request);
            });
  }

  /**
   * A JSON string, written by a mapper of the test's own so that the codec is not trusted to make
   * its own input.
   */
  private static String quoted(String s) {
    return QUOTE.writeValueAsString(s);
  }
}
