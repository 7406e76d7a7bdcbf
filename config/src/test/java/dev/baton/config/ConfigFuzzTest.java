package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import java.nio.file.Path;
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
 * Config.parse fed text it was never meant to see: random TOML-ish text, mutations of a full valid
 * config, and every table with random keys and values of random types. Whatever comes in, out comes
 * a Config or a ConfigException whose message starts with the file's name, within a bounded time.
 * 11,000 inputs in all, from a new random seed each run (a failure prints the seed to replay).
 */
class ConfigFuzzTest {
  private static final Path FILE = Path.of("/srv/app/baton.toml");

  /** A parse that hangs fails its try instead of the whole build; the thread is abandoned. */
  private static final ExecutorService PARSER =
      Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().unstarted(r));

  private static final String VALID =
      """
      [app]
      command = ["gunicorn", "-w", "2", "app:app"]
      env = { KEY = "value", OTHER = "x" }
      workdir = "."

      [[listen]]
      name = "http"
      address = "127.0.0.1:8080"
      backlog = 4096

      [[listen]]
      name = "sock"
      address = "unix:/run/app.sock"
      pass = "fd0"
      reuse_port = false

      [readiness]
      notify = true
      http = "/healthz"
      timeout = "30s"
      alive = "1s"

      [drain]
      signal = "TERM"
      timeout = "10s"

      [restart]
      backoff = "100ms"
      max_backoff = "10s"

      [control]
      socket = "baton.sock"

      [park]
      max = 1
      ttl = "10m"

      [bake]
      duration = "30s"
      interval = "1s"
      failures = 2

      [warmup]
      urls = ["/", "/api/items"]
      requests = 1000
      duration = "10s"
      concurrency = 2

      [remote]
      address = "127.0.0.1:7070"
      token_file = "/etc/baton/token"

      [agent]
      address = "127.0.0.1:7071"
      weight = 100

      [logs]
      file = "app.log"
      max_size = "100MB"
      rotate_every = "1d"
      keep = 5
      json = false
      """;

  private static final List<String> TABLES = Config.TABLES;

  private static final List<String> KEYS =
      List.of(
          "command",
          "env",
          "workdir",
          "name",
          "address",
          "pass",
          "reuse_port",
          "backlog",
          "notify",
          "http",
          "timeout",
          "alive",
          "signal",
          "backoff",
          "max_backoff",
          "socket",
          "max",
          "ttl",
          "duration",
          "interval",
          "failures",
          "urls",
          "requests",
          "concurrency",
          "token_file",
          "tls_keystore",
          "tls_password_file",
          "weight",
          "file",
          "max_size",
          "rotate_every",
          "keep",
          "json",
          "timout",
          "",
          "app",
          "listen");

  /** Values of every TOML type, and strings that look like what the keys want but are not quite. */
  private static final List<String> VALUES =
      List.of(
          "\"\"",
          "\"0\"",
          "\"-1s\"",
          "\"10s\"",
          "\"250ms\"",
          "\"9223372036854775807h\"",
          "\"99999999999999999999s\"",
          "\"1d\"",
          "\"100MB\"",
          "\"0KB\"",
          "\"1GiB\"",
          "\"999999999999GB\"",
          "\"127.0.0.1:0\"",
          "\"127.0.0.1:99999\"",
          "\"[::]:8080\"",
          "\"[::\"",
          "\"unix:\"",
          "\"unix:/tmp/x.sock\"",
          "\"localhost:http\"",
          "\":\"",
          "\"fd0\"",
          "\"listen-fds\"",
          "\"TERM\"",
          "\"SIGKILL\"",
          "\"NOPE\"",
          "\"/healthz\"",
          "\"healthz\"",
          "\"\\u0000\"",
          "\"é🙂\"",
          "0",
          "-1",
          "1",
          "65535",
          "65536",
          "2147483648",
          "-9223372036854775808",
          "9223372036854775807",
          "1e400",
          "3.5",
          "-0.0",
          "nan",
          "inf",
          "true",
          "false",
          "[]",
          "[1, 2]",
          "[\"a\", 1]",
          "[\"./server\"]",
          "[[]]",
          "{}",
          "{ a = \"b\" }",
          "{ a = 1 }",
          "1979-05-27",
          "1979-05-27T07:32:00Z",
          "07:32:00",
          "'literal'",
          "'''multi\nline'''",
          "\"\"\"multi\nline\"\"\"",
          "0x7f",
          "0o17",
          "0b101",
          "1_000");

  /**
   * A parse takes well under a millisecond; this bound is wide because the machines that run the
   * tests may be busy with other builds, and a hang is caught all the same.
   */
  private static final Duration BUDGET = Duration.ofSeconds(5);

  /** Loads Jackson's classes before the clock starts: the first parse of a JVM is the slow one. */
  @BeforeAll
  static void warmUp() {
    Config.parse(FILE, VALID);
  }

  @AfterAll
  static void stopParser() {
    PARSER.shutdownNow();
  }

  /**
   * Parses the text and checks the outcome; true when it was a Config, false when a clear error.
   */
  private static boolean parsesOrExplains(String text) {
    var attempt =
        PARSER.submit(
            () -> {
              try {
                return Config.parse(FILE, text);
              } catch (ConfigException e) {
                return e;
              }
            });
    Object outcome;
    try {
      outcome = attempt.get(BUDGET.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      attempt.cancel(true);
      throw new AssertionError(
          "Config.parse took over " + BUDGET.toSeconds() + "s (a hang?) on:\n" + text);
    } catch (ExecutionException e) {
      throw new AssertionError(
          "Config.parse threw " + e.getCause() + " instead of a ConfigException on:\n" + text,
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (outcome instanceof ConfigException e) {
      assertThat(e.getMessage()).as("the error for:\n%s", text).startsWith(FILE.toString());
      assertThat(e.getMessage().substring(FILE.toString().length()))
          .as("what is wrong, after the file's name")
          .isNotBlank();
      return false;
    } else {
      var config = (Config) outcome;
      assertThat(config.app().command()).isNotEmpty();
      assertThat(config.listeners()).isNotEmpty();
      assertThat(config.logs().maxSize()).isPositive();
      // Every duration can be set on a timer: none overflows toNanos().
      for (var d :
          List.of(
              config.drain().timeout(),
              config.readiness().timeout(),
              config.readiness().alive(),
              config.restart().initial(),
              config.restart().max(),
              config.park().ttl())) {
        assertThat(d.toNanos()).isPositive();
      }
      config
          .bake()
          .ifPresent(b -> assertThat(b.duration().plus(b.interval()).toNanos()).isPositive());
      config.warmup().ifPresent(w -> assertThat(w.duration().toNanos()).isPositive());
      config.logs().rotateEvery().ifPresent(r -> assertThat(r.toNanos()).isPositive());
      return true;
    }
  }

  /** Runs {@code tries} inputs through the parser and says how many were valid configs. */
  private static void fuzz(String what, int tries, Gen<String> inputs) {
    var runs = new AtomicInteger();
    var valid = new AtomicInteger();
    // A few more than promised: QuickTheories skips some repeats of the simplest values.
    qt().withExamples(tries + tries / 2)
        .withShrinkCycles(50)
        .forAll(inputs)
        .checkAssert(
            text -> {
              runs.incrementAndGet();
              if (parsesOrExplains(text)) {
                valid.incrementAndGet();
              }
            });
    System.out.printf(
        "config fuzz, %s: %d inputs, %d valid configs, %d clear errors%n",
        what, runs.get(), valid.get(), runs.get() - valid.get());
    assertThat(runs.get()).isGreaterThanOrEqualTo(tries);
  }

  @Test
  void randomTomlishTextIsAConfigOrAnErrorNamingTheFile() {
    fuzz("TOML-ish text", 4000, tomlish());
  }

  @Test
  void aValidConfigMutatedAnyWayIsAConfigOrAnErrorNamingTheFile() {
    fuzz("mutations of a valid config", 4000, mutated());
  }

  @Test
  void everyTableWithRandomKeysAndValuesIsAConfigOrAnErrorNamingTheFile() {
    fuzz("random keys and values", 3000, tables());
  }

  @Test
  void theConfigThatIsMutatedIsValidToBeginWith() {
    var config = Config.parse(FILE, VALID);
    assertThat(config.logs().rotateEvery()).contains(Duration.ofDays(1));
    assertThat(config.logs().maxSize()).isEqualTo(100L << 20);
  }

  /**
   * Lines of TOML's punctuation, keywords and values in random order: mostly broken, sometimes not.
   */
  private static Gen<String> tomlish() {
    var token =
        Generate.oneOf(
            Generate.pick(
                List.of(
                    "[", "]", "[[", "]]", "{", "}", "=", ",", ".", "\"", "'", "#", "\n", " ", "\t",
                    "\\", "\r\n", "\"\"\"")),
            Generate.pick(TABLES),
            Generate.pick(KEYS),
            Generate.pick(VALUES),
            strings().allPossible().ofLengthBetween(0, 6));
    return lists().of(token).ofSizeBetween(0, 60).map(tokens -> String.join("", tokens));
  }

  /**
   * The valid config with one to six random edits: cut, insert, duplicate, swap, retype, rename.
   */
  private static Gen<String> mutated() {
    var edit =
        integers()
            .between(0, 5)
            .zip(
                doubles().between(0, 1),
                doubles().between(0, 1),
                Generate.pick(VALUES),
                strings().allPossible().ofLengthBetween(0, 8),
                Edit::new);
    return lists()
        .of(edit)
        .ofSizeBetween(1, 6)
        .map(
            edits -> {
              var text = VALID;
              for (var e : edits) {
                text = e.apply(text);
              }
              return text;
            });
  }

  private record Edit(int kind, double at, double other, String value, String junk) {
    String apply(String text) {
      var lines = new ArrayList<>(text.lines().toList());
      int i = (int) (at * lines.size()) % Math.max(1, lines.size());
      int j = (int) (other * lines.size()) % Math.max(1, lines.size());
      int c = (int) (at * text.length());
      switch (kind) {
        case 0 -> { // cut a stretch of characters
          return text.substring(0, c)
              + text.substring(Math.min(text.length(), c + 1 + (int) (other * 40)));
        }
        case 1 -> { // insert junk
          return text.substring(0, c) + junk + text.substring(c);
        }
        case 2 -> lines.add(j, lines.get(i)); // a key or table twice
        case 3 -> { // lines out of order
          var t = lines.get(i);
          lines.set(i, lines.get(j));
          lines.set(j, t);
        }
        case 4 -> { // a value of another type
          var line = lines.get(i);
          int eq = line.indexOf('=');
          if (eq > 0) {
            lines.set(i, line.substring(0, eq + 1) + " " + value);
          }
        }
        default -> { // a key misspelt
          var line = lines.get(i);
          int eq = line.indexOf('=');
          if (eq > 1) {
            int k = (int) (other * (eq - 1));
            lines.set(i, line.substring(0, k) + junk + line.substring(k + 1));
          }
        }
      }
      return String.join("\n", lines);
    }
  }

  /**
   * Each table present or not, each holding random known (and a few unknown) keys with random
   * values.
   */
  private static Gen<String> tables() {
    var entry =
        Generate.pick(KEYS)
            .zip(Generate.pick(VALUES), (k, v) -> (k.isEmpty() ? "\"\"" : k) + " = " + v);
    var table =
        Generate.pick(TABLES)
            .zip(
                Generate.booleans(),
                lists().of(entry).ofSizeBetween(0, 6),
                (name, array, entries) ->
                    (array ? "[[" + name + "]]" : "[" + name + "]")
                        + "\n"
                        + String.join("\n", entries));
    var base =
        Generate.pick(
            List.of(
                "[app]\ncommand = [\"./server\"]\n[[listen]]\naddress = \"127.0.0.1:0\"\n",
                "[app]\ncommand = [\"./server\"]\n",
                ""));
    return base.zip(lists().of(table).ofSizeBetween(0, 5), (b, ts) -> b + String.join("\n", ts));
  }
}
