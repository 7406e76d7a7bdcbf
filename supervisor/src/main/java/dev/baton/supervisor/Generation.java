package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.ChildProcess;
import dev.baton.os.ExitStatus;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One spawned version of the app. Touched only on the supervisor's loop. Its state changes only
 * through {@link #moveTo}, which holds every move to {@link GenerationState}'s table.
 */
final class Generation {
  final int number;
  final Config.App app;
  final Instant started;
  final ChildProcess process;

  /**
   * The generation's private probe listener, when readiness has an HTTP probe: only it holds it.
   */
  final Optional<InetSocketAddress> probeAddress;

  /** Identifies the process across a supervisor restart, with the pid: see Os#startTime. */
  final long startTime;

  /**
   * Completes on READY=1 from this generation's pid on NOTIFY_SOCKET, or READY on BATON_CONTROL.
   */
  final CompletableFuture<Void> notifiedReady = new CompletableFuture<>();

  /**
   * Completes the first time baton-app says HELLO on BATON_CONTROL: from then on it can be paused.
   */
  final CompletableFuture<AppSession> attached = new CompletableFuture<>();

  private GenerationState state;
  private @Nullable AppSession session;
  Optional<Instant> readyAt = Optional.empty();
  Optional<Instant> promotedAt = Optional.empty();
  Optional<Instant> exitedAt = Optional.empty();
  Optional<ExitStatus> exitStatus = Optional.empty();
  String readiness = "waiting";
  String reason = "";
  String notifyStatus = "";

  /** While parked: the timer that drains it at {@code [park] ttl}; cancelled when it is resumed. */
  Optional<Loop.Timer> expiry = Optional.empty();

  /** While it drains: when its grace ends and it is SIGKILLed, or earlier once it is hurried. */
  Optional<Instant> killAt = Optional.empty();

  /** Told to finish now, as one of the oldest beyond {@code [drain] max_draining}: only once. */
  boolean hurried;

  /** While it bakes after its promotion: an exit then is a failed bake, not a crash. */
  boolean baking;

  /** Its bake failed: a rollback away from it drains it rather than parking it to come back to. */
  boolean failedBake;

  /**
   * Its stdout and stderr readers: what they hold of an unfinished line travels across an upgrade.
   */
  List<GenerationOutput> output = List.of();

  /**
   * The listeners it was given: status shows them, and one the config dropped stays open for it.
   */
  List<dev.baton.os.Fd> listeners = List.of();

  /**
   * Its own sockets of the steered listeners, by listener name: the supervisor's copies, which keep
   * them in their group until it has exited and nothing is steered to them.
   */
  java.util.Map<String, dev.baton.os.Fd> own = java.util.Map.of();

  /** Parked by a PAUSE on BATON_CONTROL: a rollback to it must resume it. */
  boolean paused;

  /** The last lines the generation printed, to explain a failure. */
  private final ArrayDeque<String> lastLines = new ArrayDeque<>();

  Generation(
      int number,
      Config.App app,
      Instant started,
      ChildProcess process,
      @Nullable InetSocketAddress probeAddress,
      long startTime,
      GenerationState state) {
    this.number = number;
    this.app = app;
    this.started = started;
    this.process = process;
    this.probeAddress = Optional.ofNullable(probeAddress);
    this.startTime = startTime;
    this.state = state;
  }

  GenerationState state() {
    return state;
  }

  boolean is(GenerationState s) {
    return state == s;
  }

  boolean isLive() {
    return state.isLive();
  }

  /**
   * @throws IllegalStateException for a move the lifecycle does not allow
   */
  void moveTo(GenerationState next) {
    if (!state.mayMoveTo(next)) {
      throw new IllegalStateException(
          this + " cannot go from " + state.label() + " to " + next.label());
    }
    state = next;
  }

  /** Its newest BATON_CONTROL session that is still connected. */
  Optional<AppSession> session() {
    return Optional.ofNullable(session).filter(s -> !s.isClosed());
  }

  void attach(AppSession session) {
    this.session = session;
    attached.complete(session);
  }

  int pid() {
    return process.pid();
  }

  boolean hasExited() {
    return process.exit().isDone();
  }

  void remember(String line) {
    if (lastLines.size() == 5) {
      lastLines.removeFirst();
    }
    lastLines.addLast(line);
  }

  /** "; its last output: a / b", or nothing when it printed nothing: for failure messages. */
  String lastOutput() {
    return lastLines.isEmpty() ? "" : "; its last output: " + String.join(" / ", lastLines);
  }

  @Override
  public String toString() {
    return "generation " + number + " (pid " + pid() + ")";
  }

  /**
   * Whether it was given {@code b}: the listener itself, or for a steered one a socket of its own.
   */
  boolean holds(ListenerSet.Bound b) {
    return b.steered() ? own.containsKey(b.config().name()) : listeners.contains(b.fd());
  }
}
