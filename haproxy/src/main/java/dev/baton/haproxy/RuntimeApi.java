package dev.baton.haproxy;

import java.time.Duration;
import java.util.List;

/**
 * HAProxy's Runtime API (the "stats socket" at level admin): the few commands a rollout needs. Each
 * call is one command on its own connection, answered and closed by HAProxy, within a timeout.
 *
 * @see <a href="https://docs.haproxy.org/2.6/management.html#9.3">management.txt, 9.3</a>
 */
public interface RuntimeApi {

  /** An administrative state that {@code set server <b>/<s> state} takes. */
  enum AdminState {
    READY,
    DRAIN,
    MAINT
  }

  /**
   * {@code show servers state <backend>}: every server of the backend.
   *
   * @throws RuntimeApiException when HAProxy cannot be reached, or has no such backend
   */
  List<ServerState> servers(String backend);

  /** {@code show stat}: the counters of every server of the backend. */
  List<ServerStats> stats(String backend);

  /** {@code set server <backend>/<server> state ready|drain|maint}. */
  void setState(String backend, String server, AdminState state);

  /**
   * {@code set server <backend>/<server> health down}: HAProxy's own health check must then pass
   * {@code rise} times in a row before the server is up again.
   */
  void forceHealthDown(String backend, String server);

  /** {@code set weight <backend>/<server> <weight>}, 0 to 256. */
  void setWeight(String backend, String server, int weight);

  /**
   * The Runtime API at {@code address}: a Unix socket path (anything with a '/') or a TCP {@code
   * host:port}, as in HAProxy's {@code stats socket} line.
   *
   * @param timeout how long one command may take, connecting included
   */
  static RuntimeApi connect(String address, Duration timeout) {
    return new SocketRuntimeApi(RuntimeApiAddress.parse(address), timeout);
  }
}
