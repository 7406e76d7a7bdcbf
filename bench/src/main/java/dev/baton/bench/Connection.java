package dev.baton.bench;

import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One of the load's concurrent request slots, and the TCP connection it currently uses. A slot
 * sends one request at a time and outlives its connections: in keep-alive mode it reconnects when
 * the server closes, in connection-per-request mode it opens one per request. Only its worker's
 * thread touches it.
 */
final class Connection {

  enum State {
    /** Between requests, with no connection open. */
    CLOSED,
    /** A request is under way; the TCP handshake is not finished. */
    CONNECTING,
    /** A request is under way; part of it is still to be written. */
    WRITING,
    /** A request is under way and sent whole; its response is awaited. */
    READING,
    /** Waiting out {@link Load#pause()} before the next request; the connection may be open. */
    PAUSED,
    /** Done: the load has ended for this slot. */
    RETIRED
  }

  final int id;
  final ResponseParser parser;
  State state = State.CLOSED;

  /** The connection in use and its key in the worker's selector; both null when none is open. */
  @Nullable SocketChannel channel;

  @Nullable SelectionKey key;

  /** The open connection: only asked for while one is open. */
  SocketChannel channel() {
    return Objects.requireNonNull(channel, "no connection is open");
  }

  SelectionKey key() {
    return Objects.requireNonNull(key, "no connection is open");
  }

  /** The request under way: its number across the whole load (from 1) and when it started. */
  long requestNumber;

  long startNanos;

  /** When the request under way times out, or when a pause ends. */
  long deadlineNanos;

  /** Bytes of the request written, and of the response read, so far. */
  int written;

  long bytesRead;

  /** Requests sent on the current connection, this one included: 1 on a fresh connection. */
  int requestsOnChannel;

  /** Whether this slot is in its worker's queue of slots that need a new request started. */
  boolean queued;

  Connection(int id, int bodyHead) {
    this.id = id;
    this.parser = new ResponseParser(bodyHead);
  }

  boolean inFlight() {
    return state == State.CONNECTING || state == State.WRITING || state == State.READING;
  }

  void begin(long number, long nowNanos, long timeoutNanos) {
    requestNumber = number;
    startNanos = nowNanos;
    deadlineNanos = nowNanos + timeoutNanos;
    written = 0;
    bytesRead = 0;
    parser.reset();
  }
}
