package dev.baton.app;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The app's end of {@code BATON_CONTROL}: it reports readiness and obeys the supervisor's pause and
 * resume, which is what lets baton park a generation (alive, warm, not accepting) for an instant
 * rollback.
 *
 * <pre>{@code
 * Listeners listeners = Listeners.adoptOr(new InetSocketAddress(8080));
 * NioAcceptor acceptor = NioAcceptor.start(listeners.all(), (listener, channel) -> serve(channel));
 * Baton baton = Baton.connect(acceptor);   // acceptor: paused, but on the probe listener
 * if (!baton.startPaused()) {
 *   acceptor.resume();                      // outside baton: nobody else will
 * }
 * baton.ready();
 * }</pre>
 *
 * <p>The protocol is a line of ASCII per message over a Unix stream socket. This end says {@code
 * HELLO <BATON_GENERATION>} first, then {@code READY} and {@code STATUS <text>}; the supervisor
 * answers {@code OK} (or {@code ERROR <why>} and closes), then says {@code PAUSE} or {@code
 * RESUME}, which this end answers with {@code PAUSED} once {@link Acceptor#pause()} has returned
 * and {@code RESUMED} once {@link Acceptor#resume()} has. To a draining generation it may say
 * {@code DRAIN-NOW}, which runs the {@link #onDrainNow} actions. Commands run on one daemon thread,
 * in order.
 *
 * <p>The supervisor tells generations apart by the connecting process's pid (SO_PEERCRED), so the
 * connection must come from the generation's main process: the JVM itself, started by {@code exec}
 * and not as a child of a shell. If the connection drops, because the supervisor was killed or is
 * upgrading itself, this end reconnects to the same path every 150 ms for up to 10 minutes and says
 * {@code HELLO}, and {@code READY} if it had, again. Meanwhile the app keeps serving, or keeps
 * paused, as it was.
 */
public final class Baton implements AutoCloseable {

  /** How often a lost connection is retried: the supervisor recreates its socket within this. */
  static final Duration RETRY = Duration.ofMillis(150);

  /** How long a lost connection is retried: a supervisor that takes longer is not coming back. */
  static final Duration GIVE_UP = Duration.ofMinutes(10);

  /**
   * What the app does on PAUSE and RESUME.
   *
   * <p>{@link #pause()} returns only once no acceptor can accept another connection; beware threads
   * already blocked in {@code accept()}, which a flag alone does not stop. Connections accepted
   * before are served as usual. The supervisor's private probe listener ({@link Listener#probe()})
   * keeps accepting: it is how baton checks a paused generation's health.
   */
  public interface Acceptor {
    void pause() throws Exception;

    void resume() throws Exception;
  }

  /** Null when detached: outside baton, or refused by the supervisor. */
  private final @Nullable ControlConnection connection;

  private final boolean startPaused;

  private final Optional<Duration> drainTimeout;

  private Baton(
      @Nullable ControlConnection connection,
      boolean startPaused,
      Optional<Duration> drainTimeout) {
    this.connection = connection;
    this.startPaused = startPaused;
    this.drainTimeout = drainTimeout;
  }

  /**
   * Connects to {@code $BATON_CONTROL} and says {@code HELLO <$BATON_GENERATION>}. Outside baton
   * (no {@code BATON_CONTROL}) it returns a detached Baton whose methods do nothing, and says so in
   * one line on stderr, so that the same app runs with and without baton.
   *
   * <p>It returns once the supervisor has accepted the connection, or at most after 2 s: the
   * supervisor's {@code PAUSE} and {@code RESUME} may come from then on. If the supervisor cannot
   * be reached yet, it keeps trying in the background. If the supervisor refuses this process (it
   * is not the generation's main process, or runs as another user), the Baton is detached, says
   * why, and does not start paused: nobody would ever resume it.
   */
  public static Baton connect(Acceptor acceptor) {
    return connect(acceptor, System.getenv(), System.err);
  }

  static Baton connect(Acceptor acceptor, Map<String, String> env, PrintStream log) {
    String path = env.get("BATON_CONTROL");
    Optional<Duration> drainTimeout = drainTimeout(env.get("BATON_DRAIN_TIMEOUT"));
    if (path == null || path.isEmpty()) {
      log.println(
          "baton-app: no BATON_CONTROL, so not under baton: ready, status, pause and resume do"
              + " nothing");
      log.flush();
      return new Baton(null, false, drainTimeout);
    }
    String generation = env.getOrDefault("BATON_GENERATION", "0");
    ControlConnection connection =
        new ControlConnection(Path.of(path), generation, acceptor, log, RETRY, GIVE_UP);
    if (!connection.open(Duration.ofSeconds(2))) {
      return new Baton(null, false, drainTimeout);
    }
    return new Baton(connection, "paused".equals(env.get("BATON_START")), drainTimeout);
  }

  /** {@code BATON_DRAIN_TIMEOUT}, whole milliseconds above zero; anything else is no timeout. */
  static Optional<Duration> drainTimeout(@Nullable String millis) {
    if (millis == null) {
      return Optional.empty();
    }
    try {
      long ms = Long.parseLong(millis.trim());
      return ms > 0 ? Optional.of(Duration.ofMillis(ms)) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether a supervisor is at the other end (or being reconnected to). */
  public boolean supervised() {
    return connection != null;
  }

  /**
   * True when supervised and {@code BATON_START=paused}: accept nothing public until the
   * supervisor's RESUME, which comes at promotion, once baton has checked this generation's health
   * on its private probe listener. Accept on the probe listener at once.
   */
  public boolean startPaused() {
    return startPaused;
  }

  /**
   * The drain's grace period, {@code [drain] timeout} as it was when this generation started
   * ({@code BATON_DRAIN_TIMEOUT}, in milliseconds): from its drain signal until baton SIGKILLs its
   * process group. An app with long-lived connections (WebSocket, HTTP/2, streams) can spread their
   * closes over it rather than dropping them all at once, so that their clients do not all
   * reconnect in the same instant. Empty outside baton.
   */
  public Optional<Duration> drainTimeout() {
    return drainTimeout;
  }

  /**
   * Runs {@code action} when the supervisor says {@code DRAIN-NOW}: end long-lived connections
   * (WebSocket, HTTP/2, streams) now. This generation is already draining, and is being hurried:
   * more generations are draining than {@code [drain] max_draining} allows, and it is one of the
   * oldest, so baton SIGKILLs its process group after {@code [drain] hurry} (5 s by default). Close
   * them so that their clients reconnect, to the new generation, at once.
   *
   * <p>The action runs on the {@code baton-control} thread, once, so it must not block long: PAUSE
   * and RESUME wait behind it. Actions run in the order added; one that throws is reported on
   * stderr and the rest still run. Added once DRAIN-NOW was said, it runs at once on the calling
   * thread. Detached (outside baton, or refused), it never runs.
   */
  public void onDrainNow(Runnable action) {
    Objects.requireNonNull(action, "action");
    if (connection != null) {
      connection.onDrainNow(action);
    }
  }

  /** Says READY: this generation can serve. Said again after a reconnect. */
  public void ready() {
    if (connection != null) {
      connection.ready();
    }
  }

  /** Says {@code STATUS <text>}, shown by {@code baton status}; line breaks become spaces. */
  public void status(String text) {
    if (connection != null) {
      connection.status(text);
    }
  }

  /** Closes the connection and stops reconnecting; the app's accepting is left as it is. */
  @Override
  public void close() {
    if (connection != null) {
      connection.close();
    }
  }

  @Override
  public String toString() {
    return connection == null ? "Baton (detached)" : "Baton (" + connection + ")";
  }
}
