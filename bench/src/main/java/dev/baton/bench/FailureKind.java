package dev.baton.bench;

/**
 * Why a request failed. Every kind is something the server, or the network path to it, did; the
 * load generator's own troubles (no free local port, too many open files) are never counted as
 * failures but end the load instead, see {@link LoadReport#aborted()}.
 */
public enum FailureKind {
  /**
   * The connection was refused (ECONNREFUSED): nothing was listening, or the accept queue was gone.
   */
  REFUSED,
  /**
   * The connection broke after the request was sent and before any byte of the response came: an
   * RST (ECONNRESET), a broken pipe while sending, or a clean close (EOF) with no response.
   */
  RESET,
  /** No complete response within the request timeout, connecting included. */
  TIMEOUT,
  /** A complete response whose status is not 2xx; {@link LoadReport#statuses()} says which. */
  NON_2XX,
  /**
   * The connection ended after part of a response: short of its Content-Length or its last chunk.
   */
  SHORT,
  /**
   * The server answered with bytes that are not an HTTP/1.x response, or more bytes than it
   * declared.
   */
  MALFORMED
}
