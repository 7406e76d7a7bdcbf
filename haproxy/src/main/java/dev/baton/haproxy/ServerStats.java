package dev.baton.haproxy;

/**
 * One server's counters from {@code show stat}. Counters count from HAProxy's start; compare two
 * snapshots to see a period.
 *
 * @param sessions scur: sessions in progress on the server
 * @param queued qcur: requests waiting for a slot on it
 * @param checkStatus e.g. "L7OK", "L4CON"; empty when HAProxy does not check the server
 * @param responses HTTP responses the server sent, of any status
 * @param responses5xx of those, 5xx
 * @param connectionErrors econ: failed connection attempts
 * @param responseErrors eresp: responses that broke off or never came
 */
public record ServerStats(
    String name,
    long sessions,
    long queued,
    String status,
    String checkStatus,
    long responses,
    long responses5xx,
    long connectionErrors,
    long responseErrors) {

  public boolean checked() {
    return !checkStatus.isEmpty();
  }

  /** Requests that went wrong: 5xx answers, and attempts that got no answer. */
  public long errors() {
    return responses5xx + connectionErrors + responseErrors;
  }

  /** Requests the server answered or failed. */
  public long requests() {
    return responses + connectionErrors + responseErrors;
  }
}
