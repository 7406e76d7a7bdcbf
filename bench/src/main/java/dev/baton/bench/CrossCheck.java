package dev.baton.bench;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The same scenario measured by someone else's load generator: {@code wrk} (keep-alive, c=N) and
 * {@code ab} (a connection per request, c=1), when they are installed. Their counts sit beside ours
 * in the report, so that a zero from bench is not only bench's word.
 *
 * @param tool "wrk" or "ab"
 * @param command what was run
 * @param requests requests completed, as the tool counts them
 * @param failed failed requests, as the tool counts them
 * @param failures the tool's own breakdown of the failures
 * @param gaveUp when the tool stopped at the first error (ab does on a refused connection)
 */
record CrossCheck(
    String tool,
    String command,
    long requests,
    long failed,
    String failures,
    OptionalDouble meanMs,
    OptionalDouble p50Ms,
    OptionalDouble p99Ms,
    OptionalDouble maxMs,
    double throughput,
    Optional<String> gaveUp) {

  static boolean installed(String tool) {
    for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /**
   * wrk with keep-alive connections: the tool the design's numbers were measured with; it POSTs
   * with {@code postScript}, GETs without.
   */
  static List<String> wrkCommand(
      InetSocketAddress target, int connections, Duration duration, @Nullable Path postScript) {
    var argv =
        new ArrayList<>(
            List.of(
                "wrk",
                "-t2",
                "-c" + connections,
                "-d" + Math.max(1, duration.toSeconds()) + "s",
                "--timeout",
                "5s",
                "--latency"));
    if (postScript != null) {
      argv.addAll(List.of("-s", postScript.toString()));
    }
    argv.add(url(target));
    return argv;
  }

  /**
   * ab at c=1, a new connection per request; -r so that a reset does not end it. It POSTs {@code
   * postBody}, or GETs without.
   */
  static List<String> abCommand(
      InetSocketAddress target, Duration duration, @Nullable Path postBody) {
    var argv =
        new ArrayList<>(
            List.of(
                "ab",
                "-r",
                "-q",
                "-s",
                "5",
                "-c",
                "1",
                "-t",
                Long.toString(Math.max(1, duration.toSeconds())),
                "-n",
                "100000000"));
    if (postBody != null) {
      argv.addAll(List.of("-p", postBody.toString(), "-T", "application/octet-stream"));
    }
    argv.add(url(target));
    return argv;
  }

  private static String url(InetSocketAddress target) {
    var host = target.getAddress().getHostAddress();
    return "http://"
        + (host.contains(":") ? "[" + host + "]" : host)
        + ":"
        + target.getPort()
        + "/";
  }

  /** Runs {@code argv} to its end and reads its report. */
  static CrossCheck run(Children children, List<String> argv, Path dir, Duration duration) {
    var out = new StringWriter();
    var child = children.start(argv.getFirst(), argv, Map.of(), dir, List.of(), out, line -> {});
    if (child.awaitExit(duration.plusSeconds(30)).isEmpty()) {
      child.end(Duration.ofSeconds(1));
    }
    child.awaitOutput(Duration.ofSeconds(5));
    var text = out.toString().replaceAll("(?m)^\\S+ [|!] ", "");
    try {
      Files.writeString(
          dir.resolve(argv.getFirst() + ".txt"), String.join(" ", argv) + "\n\n" + text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return argv.getFirst().equals("wrk")
        ? parseWrk(String.join(" ", argv), text)
        : parseAb(String.join(" ", argv), text);
  }

  static CrossCheck parseWrk(String command, String text) {
    long requests = longOf(text, "(\\d+) requests in");
    long connect = longOf(text, "connect (\\d+)");
    long read = longOf(text, "read (\\d+)");
    long write = longOf(text, "write (\\d+)");
    long timeout = longOf(text, "timeout (\\d+)");
    long non2xx = longOf(text, "Non-2xx or 3xx responses: (\\d+)");
    long failed = connect + read + write + timeout + non2xx;
    var latency =
        Pattern.compile("Latency\\s+([0-9.]+\\w+)\\s+([0-9.]+\\w+)\\s+([0-9.]+\\w+)").matcher(text);
    boolean found = latency.find();
    var mean = found ? OptionalDouble.of(millis(latency.group(1))) : OptionalDouble.empty();
    var max = found ? OptionalDouble.of(millis(latency.group(3))) : OptionalDouble.empty();
    return new CrossCheck(
        "wrk",
        command,
        requests,
        failed,
        String.format(
            Locale.ROOT,
            "connect %d, read %d, write %d, timeout %d, non-2xx %d",
            connect,
            read,
            write,
            timeout,
            non2xx),
        mean,
        percentile(text, "50"),
        percentile(text, "99"),
        max,
        doubleOf(text, "Requests/sec:\\s+([0-9.]+)").orElse(0),
        gaveUp(text, requests));
  }

  static CrossCheck parseAb(String command, String text) {
    long requests = longOf(text, "Complete requests:\\s+(\\d+)");
    long failed = longOf(text, "Failed requests:\\s+(\\d+)");
    long non2xx = longOf(text, "Non-2xx responses:\\s+(\\d+)");
    var breakdown =
        Pattern.compile(
                "\\(Connect: (\\d+), Receive: (\\d+), Length: (\\d+), Exceptions: (\\d+)\\)")
            .matcher(text);
    String failures = "non-2xx " + non2xx;
    if (breakdown.find()) {
      // ab counts a body whose length differs from the first one's as failed. The sample's body
      // names its generation and pid, so a deploy can change its length: an answer, not a failure.
      long length = Long.parseLong(breakdown.group(3));
      failed -= length;
      failures =
          String.format(
              Locale.ROOT,
              "connect %s, receive %s, exceptions %s, non-2xx %d%s",
              breakdown.group(1),
              breakdown.group(2),
              breakdown.group(4),
              non2xx,
              length == 0 ? "" : "; not counted: " + length + " bodies of another length");
    }
    var gaveUp = Pattern.compile("(apr_\\w+\\(\\)?:? .*)").matcher(text);
    Optional<String> reason =
        gaveUp.find() && requests == 0 ? Optional.of(gaveUp.group(1).trim()) : Optional.empty();
    var mean = doubleOf(text, "Time per request:\\s+([0-9.]+) \\[ms\\] \\(mean\\)");
    var max = doubleOf(text, "100%\\s+(\\d+)");
    return new CrossCheck(
        "ab",
        command,
        requests,
        failed + non2xx + (reason.isPresent() ? 1 : 0),
        failures,
        mean,
        percentile(text, "50"),
        percentile(text, "99"),
        max,
        doubleOf(text, "Requests per second:\\s+([0-9.]+)").orElse(0),
        reason.or(() -> gaveUp(text, requests)));
  }

  private static Optional<String> gaveUp(String text, long requests) {
    if (requests > 0) {
      return Optional.empty();
    }
    var lines = text.strip().lines().toList();
    return Optional.of(lines.isEmpty() ? "no output" : lines.getLast());
  }

  /** wrk prints "99% 1.23ms"; ab prints "99% 1" in whole milliseconds. */
  private static OptionalDouble percentile(String text, String which) {
    var m = Pattern.compile("(?m)^\\s*" + which + "%\\s+([0-9.]+)(us|ms|s)?\\s*$").matcher(text);
    if (!m.find()) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(
        m.group(2) == null ? Double.parseDouble(m.group(1)) : millis(m.group(1) + m.group(2)));
  }

  private static double millis(String value) {
    Matcher m = Pattern.compile("([0-9.]+)(us|ms|s|m)").matcher(value);
    if (!m.matches()) {
      return Double.NaN;
    }
    double number = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> number / 1000;
      case "ms" -> number;
      case "s" -> number * 1000;
      default -> number * 60_000;
    };
  }

  private static long longOf(String text, String regex) {
    var m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static OptionalDouble doubleOf(String text, String regex) {
    var m = Pattern.compile(regex).matcher(text);
    return m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1))) : OptionalDouble.empty();
  }
}
