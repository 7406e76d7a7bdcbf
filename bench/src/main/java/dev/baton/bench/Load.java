package dev.baton.bench;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link LoadGenerator} sends: an immutable spec, made with {@link #to(InetSocketAddress)}.
 *
 * <pre>{@code
 * Load load = Load.to("127.0.0.1:8080").keepAlive().connections(50).duration(Duration.ofSeconds(10)).build();
 * }</pre>
 *
 * <p>A load always ends by itself: after {@code duration} or after {@code requests} requests,
 * whichever comes first. Given neither, it runs for 10 s; given only a request count, it runs for
 * at most {@link #MAX_DURATION}.
 *
 * @param target a loopback address, or an address of this machine
 * @param keepAlive persistent HTTP/1.1 connections; otherwise a new connection per request, with
 *     {@code Connection: close}
 * @param method GET, or POST when there is a body
 * @param path the request target, e.g. "/" or "/items?id=3"
 * @param connections how many requests are in flight at once; 1 sends one request at a time
 * @param threads selector threads sharing the connections
 * @param duration the longest the load runs; requests in flight at the end are still waited for
 * @param requests the most requests sent, {@link Long#MAX_VALUE} for no limit but the duration
 * @param timeout the longest one request may take, connecting included
 * @param pause how long each connection waits between a response and its next request, so that
 *     servers see idle keep-alive connections; zero for a closed loop
 * @param timelineLimit how many requests the timeline keeps; later ones are counted but not plotted
 * @param countAnswers whether to count the 2xx responses by their body's first {@link
 *     #ANSWER_BYTES} bytes (see {@link LoadReport#answers()}), for servers whose answer says which
 *     of them gave it
 */
public record Load(
    InetSocketAddress target,
    boolean keepAlive,
    String method,
    String path,
    byte[] body,
    int connections,
    int threads,
    Duration duration,
    long requests,
    Duration timeout,
    Duration pause,
    int timelineLimit,
    boolean countAnswers) {

  /** The timeline packs a request's start offset into 34 bits of microseconds: 4.7 h. */
  static final Duration MAX_DURATION = Duration.ofHours(4);

  /** The timeline packs a latency into 26 bits of microseconds: 67 s. */
  static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);

  /** How much of each body {@link #countAnswers} counts by. */
  public static final int ANSWER_BYTES = 64;

  public Load {
    if (!isLocal(target.getAddress())) {
      throw new IllegalArgumentException(
          "target "
              + target
              + " is not an address of this machine; the load generator only loads local servers"
              + " (127.0.0.1, [::1], or a local interface address)");
    }
    if (!method.equals("GET") && !method.equals("POST")) {
      throw new IllegalArgumentException("method " + method + " is not supported; use GET or POST");
    }
    if (!path.startsWith("/") || path.chars().anyMatch(ch -> ch <= ' ' || ch >= 0x7f)) {
      throw new IllegalArgumentException(
          "path '" + path + "' must start with / and have no spaces or control characters");
    }
    body = body.clone();
    requireBetween("connections", connections, 1, 100_000);
    threads = Math.min(threads, connections);
    requireBetween("threads", threads, 1, 1024);
    requirePositiveUpTo("duration", duration, MAX_DURATION);
    if (requests < 1) {
      throw new IllegalArgumentException("requests must be at least 1, was " + requests);
    }
    requirePositiveUpTo("timeout", timeout, MAX_TIMEOUT);
    if (pause.isNegative() || pause.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "pause must be from 0 to " + MAX_TIMEOUT + ", was " + pause);
    }
    requireBetween("timelineLimit", timelineLimit, 0, Integer.MAX_VALUE);
  }

  /**
   * Starts a spec that loads {@code target}; by default 10 s of keep-alive GET / on 50 connections.
   */
  public static Builder to(InetSocketAddress target) {
    return new Builder(target);
  }

  /** Same as {@link #to(InetSocketAddress)}, from "127.0.0.1:8080" or "[::1]:8080". */
  static Builder to(String hostAndPort) {
    int colon = hostAndPort.lastIndexOf(':');
    var host = colon > 0 ? hostAndPort.substring(0, colon) : "";
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!host.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
      throw new IllegalArgumentException(
          "target '"
              + hostAndPort
              + "' needs a literal IP and a port: 127.0.0.1:8080 or [::1]:8080");
    }
    try {
      int port = Integer.parseInt(hostAndPort.substring(colon + 1));
      return to(new InetSocketAddress(InetAddress.getByName(host), port));
    } catch (NumberFormatException | UnknownHostException e) {
      throw new IllegalArgumentException(
          "target '"
              + hostAndPort
              + "' needs a literal IP and a port: 127.0.0.1:8080 or [::1]:8080",
          e);
    }
  }

  @Override
  public byte[] body() {
    return body.clone();
  }

  /** The bytes of the one request every connection sends, again and again. */
  byte[] requestBytes() {
    var host = target.getAddress();
    var hostText =
        host instanceof Inet6Address ? "[" + host.getHostAddress() + "]" : host.getHostAddress();
    var head =
        new StringBuilder()
            .append(method)
            .append(' ')
            .append(path)
            .append(" HTTP/1.1\r\n")
            .append("Host: ")
            .append(hostText)
            .append(':')
            .append(target.getPort())
            .append("\r\n")
            .append("User-Agent: baton-bench\r\n");
    if (!keepAlive) {
      head.append("Connection: close\r\n");
    }
    if (method.equals("POST")) {
      head.append("Content-Type: application/octet-stream\r\n")
          .append("Content-Length: ")
          .append(body.length)
          .append("\r\n");
    }
    head.append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] request = Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
    return request;
  }

  @Override
  public String toString() {
    var host =
        target.getAddress() instanceof Inet6Address
            ? "[" + target.getAddress().getHostAddress() + "]"
            : target.getAddress().getHostAddress();
    return method
        + " "
        + path
        + " to "
        + host
        + ":"
        + target.getPort()
        + (keepAlive ? ", keep-alive" : ", a connection per request")
        + (body.length > 0 ? ", " + body.length + " B body" : "")
        + ", c="
        + connections
        + " on "
        + threads
        + (threads == 1 ? " thread" : " threads")
        + ", for "
        + duration.toMillis() / 1000.0
        + " s"
        + (requests == Long.MAX_VALUE ? "" : " or " + requests + " requests")
        + ", timeout "
        + timeout.toMillis()
        + " ms"
        + (pause.isZero() ? "" : ", pause " + pause.toMillis() + " ms")
        + (countAnswers ? ", counting answers" : "");
  }

  // A record compares arrays by identity; a spec is equal to another with the same body bytes.
  @Override
  public boolean equals(Object other) {
    return other instanceof Load that
        && target.equals(that.target)
        && keepAlive == that.keepAlive
        && method.equals(that.method)
        && path.equals(that.path)
        && Arrays.equals(body, that.body)
        && connections == that.connections
        && threads == that.threads
        && duration.equals(that.duration)
        && requests == that.requests
        && timeout.equals(that.timeout)
        && pause.equals(that.pause)
        && timelineLimit == that.timelineLimit
        && countAnswers == that.countAnswers;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        target,
        keepAlive,
        method,
        path,
        Arrays.hashCode(body),
        connections,
        threads,
        duration,
        requests,
        timeout,
        pause,
        timelineLimit,
        countAnswers);
  }

  private static boolean isLocal(InetAddress address) {
    if (address.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }

  private static void requireBetween(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be from " + min + " to " + max + ", was " + value);
    }
  }

  private static void requirePositiveUpTo(String name, Duration value, Duration max) {
    if (value.isNegative() || value.isZero() || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          name + " must be more than 0 and at most " + max + ", was " + value);
    }
  }

  /** Builds a {@link Load}; every setter returns this builder. */
  public static final class Builder {
    private final InetSocketAddress target;
    private boolean keepAlive = true;
    private String method = "GET";
    private String path = "/";
    private byte[] body = new byte[0];
    private int connections = 50;
    private int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
    private Optional<Duration> duration = Optional.empty();
    private long requests = Long.MAX_VALUE;
    private Duration timeout = Duration.ofSeconds(5);
    private Duration pause = Duration.ZERO;
    private int timelineLimit = 20_000_000;
    private boolean countAnswers;

    private Builder(InetSocketAddress target) {
      this.target = target;
    }

    /** Persistent HTTP/1.1 connections, reconnecting when the server closes one (the default). */
    public Builder keepAlive() {
      this.keepAlive = true;
      return this;
    }

    /** A new TCP connection for every request, sent with {@code Connection: close}. */
    public Builder connectionPerRequest() {
      this.keepAlive = false;
      return this;
    }

    public Builder get(String path) {
      this.method = "GET";
      this.path = path;
      this.body = new byte[0];
      return this;
    }

    public Builder post(String path, byte[] body) {
      this.method = "POST";
      this.path = path;
      this.body = body.clone();
      return this;
    }

    /** Requests in flight at once (default 50). */
    public Builder connections(int connections) {
      this.connections = connections;
      return this;
    }

    /**
     * Selector threads (default 2, or fewer on a machine with fewer cores; never more than
     * connections).
     */
    Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    public Builder duration(Duration duration) {
      this.duration = Optional.of(duration);
      return this;
    }

    public Builder requests(long requests) {
      this.requests = requests;
      return this;
    }

    /** The longest one request may take, connecting included (default 5 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** A wait between a response and the next request on the same connection (default none). */
    public Builder pause(Duration pause) {
      this.pause = pause;
      return this;
    }

    /** How many requests the timeline keeps (default 20 million, 160 MB); 0 keeps none. */
    Builder timelineLimit(int timelineLimit) {
      this.timelineLimit = timelineLimit;
      return this;
    }

    /**
     * Counts the 2xx responses by the first {@link #ANSWER_BYTES} bytes of their body, such as
     * which version of a server gave them (default off: bodies are skipped, never copied).
     */
    public Builder countAnswers() {
      this.countAnswers = true;
      return this;
    }

    public Load build() {
      var bound =
          duration.orElse(requests == Long.MAX_VALUE ? Duration.ofSeconds(10) : MAX_DURATION);
      return new Load(
          target,
          keepAlive,
          method,
          path,
          body,
          connections,
          threads,
          bound,
          requests,
          timeout,
          pause,
          timelineLimit,
          countAnswers);
    }
  }
}
