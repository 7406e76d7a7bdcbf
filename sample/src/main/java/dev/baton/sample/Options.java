package dev.baton.sample;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * How the sample behaves, from flags or from {@code SAMPLE_*} variables (flags win). Most options
 * exist to make bad versions on purpose, for the tests of deploys that must not promote them.
 *
 * @param generation {@code BATON_GENERATION}, {@code "0"} outside baton
 * @param port the fallback port on 127.0.0.1 when no listener is handed over
 * @param reusePort bind the fallback port with SO_REUSEPORT, beside other copies of the sample
 * @param exitAtStart exit at once with this code
 * @param hang never adopt, never accept, never get healthy
 * @param startupDelay sleep before adopting and accepting
 * @param healthy whether {@code /healthz} answers 200 (until {@code failHealthAfter})
 * @param failHealthAfter after this long serving public traffic (under baton: since its promotion),
 *     {@code /healthz} answers 500
 * @param failAfter after this long serving public traffic (under baton: since its promotion), every
 *     request answers 500, {@code /healthz} included: a version that turns bad
 * @param work how long each request (but {@code /healthz}) takes
 * @param workCpu units of computation each request (but {@code /healthz}) does, which the JIT makes
 *     many times faster once compiled: the workload of the warm-up tests
 * @param idleClose during a drain, how long a keep-alive connection must have been idle before it
 *     is closed without a response
 * @param drainTimeout the cap on a drain; connections still open then are cut
 */
record Options(
    String generation,
    int port,
    boolean reusePort,
    OptionalInt exitAtStart,
    boolean hang,
    Duration startupDelay,
    boolean healthy,
    Optional<Duration> failHealthAfter,
    Optional<Duration> failAfter,
    Duration work,
    int workCpu,
    Duration idleClose,
    Duration drainTimeout) {

  static final String USAGE =
      """
      usage: java -jar baton-sample.jar [--option=value ...]
        --port=N                   fallback port on 127.0.0.1 outside baton (8080)
        --reuse-port               bind that port with SO_REUSEPORT, beside other copies
        --exit-at-start=CODE       exit at once with CODE
        --hang                     never accept, never get healthy
        --startup-delay=DURATION   sleep before accepting (0)
        --health=ok|fail           what /healthz answers (ok)
        --fail-health-after=DURATION  /healthz answers 500 after serving this long
                                   (under baton: after its promotion)
        --fail-after=DURATION      every request answers 500 after serving this long
                                   (under baton: after its promotion)
        --work=DURATION            time each request takes (0)
        --work-cpu=N               computation each request does, JIT-sensitive (0); 1 is
                                   about 1 microsecond compiled
        --idle-close=DURATION      on drain, close keep-alive connections idle this long (2s)
        --drain-timeout=DURATION   cap on a drain (30s)
      Each option can also be set as SAMPLE_<NAME>, e.g. SAMPLE_WORK=500ms.
      A DURATION is 500, 500ms, 2s or 1m; a bare number is milliseconds.
      """;

  private static final Set<String> NAMES =
      Set.of(
          "port",
          "reuse-port",
          "exit-at-start",
          "hang",
          "startup-delay",
          "health",
          "fail-health-after",
          "fail-after",
          "work",
          "work-cpu",
          "idle-close",
          "drain-timeout");
  private static final Set<String> SWITCHES = Set.of("hang", "reuse-port");

  /**
   * @throws IllegalArgumentException with a message naming the option, when an option is unknown or
   *     its value is not of its kind
   */
  static Options parse(List<String> args, Map<String, String> env) {
    Map<String, String> values = new HashMap<>();
    for (String name : NAMES) {
      String value = env.get("SAMPLE_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
      if (value != null) {
        values.put(name, value);
      }
    }
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + arg);
      }
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      if (!NAMES.contains(name)) {
        throw new IllegalArgumentException("unknown option --" + name);
      }
      if (eq >= 0) {
        values.put(name, arg.substring(eq + 1));
      } else if (SWITCHES.contains(name)) {
        values.put(name, "true");
      } else if (i + 1 < args.size()) {
        values.put(name, args.get(++i));
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
    }
    Values v = new Values(values);
    return new Options(
        env.getOrDefault("BATON_GENERATION", "0"),
        v.integer("port", 8080, 0, 65535),
        v.bool("reuse-port"),
        values.containsKey("exit-at-start")
            ? OptionalInt.of(v.integer("exit-at-start", 0, 0, 255))
            : OptionalInt.empty(),
        v.bool("hang"),
        v.duration("startup-delay", Duration.ZERO),
        v.health(),
        values.containsKey("fail-health-after")
            ? Optional.of(v.duration("fail-health-after", Duration.ZERO))
            : Optional.empty(),
        values.containsKey("fail-after")
            ? Optional.of(v.duration("fail-after", Duration.ZERO))
            : Optional.empty(),
        v.duration("work", Duration.ZERO),
        v.integer("work-cpu", 0, 0, 1_000_000),
        v.duration("idle-close", Duration.ofSeconds(2)),
        v.duration("drain-timeout", Duration.ofSeconds(30)));
  }

  /** The raw values by option name, read as their kinds. */
  private record Values(Map<String, String> raw) {

    int integer(String name, int orElse, int min, int max) {
      String value = raw.get(name);
      if (value == null) {
        return orElse;
      }
      try {
        int parsed = Integer.parseInt(value.trim());
        if (parsed >= min && parsed <= max) {
          return parsed;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw invalid(name, value, "a whole number from " + min + " to " + max);
    }

    boolean bool(String name) {
      String value = raw.getOrDefault(name, "false");
      return switch (value.trim()) {
        case "true", "1", "yes" -> true;
        case "false", "0", "no" -> false;
        default -> throw invalid(name, value, "true or false");
      };
    }

    boolean health() {
      String value = raw.getOrDefault("health", "ok");
      return switch (value.trim()) {
        case "ok" -> true;
        case "fail" -> false;
        default -> throw invalid("health", value, "ok or fail");
      };
    }

    Duration duration(String name, Duration orElse) {
      String value = raw.get(name);
      if (value == null) {
        return orElse;
      }
      String text = value.trim().toLowerCase(Locale.ROOT);
      int digits = 0;
      while (digits < text.length() && Character.isDigit(text.charAt(digits))) {
        digits++;
      }
      if (digits > 0 && digits <= 12) {
        long amount = Long.parseLong(text.substring(0, digits));
        switch (text.substring(digits)) {
          case "", "ms" -> {
            return Duration.ofMillis(amount);
          }
          case "s" -> {
            return Duration.ofSeconds(amount);
          }
          case "m" -> {
            return Duration.ofMinutes(amount);
          }
          default -> {
            // reported below
          }
        }
      }
      throw invalid(name, value, "a duration like 500ms, 2s or 1m");
    }

    private static IllegalArgumentException invalid(String name, String value, String expected) {
      return new IllegalArgumentException(
          "--" + name + "=" + value + " is not valid; expected " + expected);
    }
  }
}
