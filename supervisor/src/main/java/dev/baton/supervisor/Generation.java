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

/**
 * One spawned version of the app. Its mutable fields are guarded by the supervisor's lock; the
 * futures complete from the threads that observe the process.
 */
final class Generation {
  final int number;
  final Config.App app;
  final Instant started;
  final ChildProcess process;
  /** The generation's private probe listener, when readiness has an HTTP probe: only it holds it. */
  final Optional<InetSocketAddress> probeAddress;

  /** Identifies the process across a supervisor restart, with the pid: see Os#startTime. */
  final long startTime;

  /** Completes on READY=1 from this generation's pid on NOTIFY_SOCKET. */
  final CompletableFuture<Void> notifiedReady = new CompletableFuture<>();

  // Guarded by Supervisor.lock.
  GenerationState state = GenerationState.STARTING;
  Optional<Instant> readyAt = Optional.empty();
  Optional<Instant> promotedAt = Optional.empty();
  Optional<Instant> parkedAt = Optional.empty();
  Optional<Instant> exitedAt = Optional.empty();
  Optional<ExitStatus> exitStatus = Optional.empty();
  String readiness = "waiting";
  String reason = "";
  // Written by the notify and BATON_CONTROL threads, read under the lock for status.
  volatile String notifyStatus = "";

  /** Its BATON_CONTROL connection, once baton-app has said HELLO: then it can be paused. */
  private volatile Optional<AppSession> session = Optional.empty();

  /** The last lines the generation printed, to explain a failure. Guarded by itself. */
  private final ArrayDeque<String> lastLines = new ArrayDeque<>();

  Generation(
      int number,
      Config.App app,
      Instant started,
      ChildProcess process,
      Optional<InetSocketAddress> probeAddress,
      long startTime) {
    this.number = number;
    this.startTime = startTime;
    this.app = app;
    this.started = started;
    this.process = process;
    this.probeAddress = probeAddress;
  }

  void attach(AppSession session) {
    this.session = Optional.of(session);
  }

  Optional<AppSession> session() {
    return session;
  }

  int pid() {
    return process.pid();
  }

  void remember(String line) {
    synchronized (lastLines) {
      if (lastLines.size() == 5) {
        lastLines.removeFirst();
      }
      lastLines.addLast(line);
    }
  }

  List<String> lastLines() {
    synchronized (lastLines) {
      return List.copyOf(lastLines);
    }
  }

  @Override
  public String toString() {
    return "generation " + number + " (pid " + pid() + ")";
  }
}
