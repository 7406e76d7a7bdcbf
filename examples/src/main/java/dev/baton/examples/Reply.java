package dev.baton.examples;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * What every example answers, whatever its server: {@code GET /} says which generation and pid
 * answered, which is how the end-to-end tests tell generations apart; {@code GET /healthz} is the
 * readiness probe.
 */
final class Reply {
  /** How long a drain may take before the example gives up on the connections left. */
  static final Duration DRAIN = Duration.ofSeconds(10);

  private static final String IDENTITY =
      "generation "
          + System.getenv().getOrDefault("BATON_GENERATION", "0")
          + " pid "
          + ProcessHandle.current().pid();

  final int status;
  final String body;

  private Reply(int status, String body) {
    this.status = status;
    this.body = body;
  }

  static Reply to(String method, String path) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return new Reply(405, "method not allowed\n");
    }
    return path.equals("/healthz") ? new Reply(200, "ok\n") : new Reply(200, IDENTITY + "\n");
  }

  /** Where an example listens outside baton: loopback, on the port given as the first argument. */
  static InetSocketAddress fallback(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  static void log(String message) {
    System.out.println(IDENTITY + " " + message);
    System.out.flush();
  }
}
