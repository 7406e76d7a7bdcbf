package dev.baton.bench;

/**
 * What a fleet of long-lived clients saw, from its start.
 *
 * @param open connections open now
 * @param connects connections opened, the first ones included
 * @param attempts connections tried, the first ones included: when each client set out to connect,
 *     which is what the server sees arrive, whatever it then makes of them and how late
 * @param connectFailures attempts to connect (TCP or the handshake) that failed
 * @param politeEnds connections the server ended politely: a close frame with 1012, or GOAWAY
 *     followed by a clean close once the streams it took were answered
 * @param abnormalEnds connections that ended any other way while the fleet ran: a reset, an end of
 *     stream without a close frame (WebSocket's 1006), a close code other than 1012, a GOAWAY with
 *     an error, or a read timeout
 * @param sent messages sent (text frames, or requests on streams), each counted once
 * @param resent messages still unanswered when the server ended their connection politely, sent
 *     again on the client's next connection (a WebSocket's server sends nothing after its close
 *     frame; an HTTP/2 server refuses streams above the final GOAWAY's last stream id)
 * @param answered messages answered: the echo came back, or the stream's response ended with 200
 * @param failed messages that will never be answered: lost with a connection that ended abnormally,
 *     or the stream was reset, or answered with another status
 */
record LongLivedTally(
    long open,
    long connects,
    long attempts,
    long connectFailures,
    long politeEnds,
    long abnormalEnds,
    long sent,
    long resent,
    long answered,
    long failed) {

  /** Connections opened after the first one of each client: the reconnects. */
  long reconnects(int clients) {
    return Math.max(0, connects - clients);
  }

  /** Attempts after the first one of each client: the reconnects as the clients make them. */
  long reconnectAttempts(int clients) {
    return Math.max(0, attempts - clients);
  }
}
