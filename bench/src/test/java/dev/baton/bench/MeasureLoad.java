package dev.baton.bench;

import java.time.Duration;

/**
 * Runs one load from the command line and prints its summary, for the side-by-side runs with wrk
 * and ab in MEASUREMENTS.md:
 *
 * <pre>
 * java -cp bench/target/classes:bench/target/test-classes:HdrHistogram.jar dev.baton.bench.MeasureLoad \
 *     127.0.0.1:18081 keep-alive 50 10s        # or: per-request 1 n=20000
 * </pre>
 */
final class MeasureLoad {
  private MeasureLoad() {}

  public static void main(String[] args) {
    if (args.length != 4) {
      System.err.println(
          "usage: MeasureLoad HOST:PORT keep-alive|per-request CONNECTIONS SECONDSs|n=REQUESTS");
      System.exit(2);
    }
    var load = Load.to(args[0]).connections(Integer.parseInt(args[2]));
    switch (args[1]) {
      case "keep-alive" -> load.keepAlive();
      case "per-request" -> load.connectionPerRequest();
      default ->
          throw new IllegalArgumentException(
              "mode must be keep-alive or per-request, was " + args[1]);
    }
    if (args[3].startsWith("n=")) {
      load.requests(Long.parseLong(args[3].substring(2)));
    } else {
      load.duration(Duration.ofSeconds(Long.parseLong(args[3].replace("s", ""))));
    }
    var report = LoadGenerator.run(load.build());
    System.out.println(report);
    report.failureMessages().forEach(System.out::println);
  }
}
