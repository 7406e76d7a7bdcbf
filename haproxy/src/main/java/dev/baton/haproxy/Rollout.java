package dev.baton.haproxy;

import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A deploy across the servers of one HAProxy backend, a batch at a time. For each server:
 *
 * <ol>
 *   <li>drain it in HAProxy, so that no new request goes to it;
 *   <li>wait until it has no sessions and no queue there;
 *   <li>deploy through its supervisor, and wait for the old generation to be gone, so that no idle
 *       connection HAProxy keeps points at it;
 *   <li>mark it down in HAProxy, so that only HAProxy's own health check, passing {@code rise}
 *       times against the new generation, brings it back up;
 *   <li>set it ready.
 * </ol>
 *
 * <p>An optional canary goes first, alone, at a reduced weight, for a bake period in which its 5xx
 * and failed requests are compared with the others'. Any failure stops the rollout: the servers
 * already on the new version are rolled back the same careful way (their supervisor's rollback: the
 * parked generation resumed, or the previous command started again), and every server is set ready
 * with its weight as it was. A rollout starts only from a backend whose servers are all ready and
 * up, so "as it was" is "ready".
 */
public final class Rollout {
  private static final Duration POLL = Duration.ofMillis(100);

  /** Short: while a bad canary serves, every poll interval costs its share of failed requests. */
  private static final Duration BAKE_POLL = Duration.ofMillis(100);

  /** Waits; a test's fake advances its clock instead. */
  interface Pause {
    void pause(Duration duration);
  }

  private enum Action {
    DEPLOY,
    ROLLBACK
  }

  private final RolloutPlan plan;
  private final RuntimeApi api;
  private final Map<String, Host> hosts;
  private final InstantSource clock;
  private final Pause pause;

  /** Servers whose supervisor promoted the new version, in order: what an abort rolls back. */
  private final List<String> moved = Collections.synchronizedList(new ArrayList<>());

  /** Each server's weight before the rollout; set by preflight. */
  private final Map<String, Integer> weights = new ConcurrentHashMap<>();

  /**
   * Set once preflight passed: from then on, servers may be drained, and restore() has weights to
   * restore.
   */
  private final AtomicBoolean touched = new AtomicBoolean();

  /** Set once run() returned or threw: nothing is left to restore. */
  private final AtomicBoolean finished = new AtomicBoolean();

  private Instant started = Instant.EPOCH;
  private Consumer<RolloutEvent> progress = e -> {};

  Rollout(
      RolloutPlan plan, RuntimeApi api, Map<String, Host> hosts, InstantSource clock, Pause pause) {
    this.plan = plan;
    this.api = api;
    this.hosts = Map.copyOf(hosts);
    this.clock = clock;
    this.pause = pause;
  }

  /**
   * A rollout of {@code plan} through HAProxy's Runtime API and each server's supervisor.
   *
   * @throws IllegalArgumentException when a target is neither a config, a socket nor a URL
   */
  public static Rollout of(RolloutPlan plan) {
    var hosts = new LinkedHashMap<String, Host>();
    var statusTimeout = Duration.ofSeconds(10);
    for (var server : plan.servers()) {
      try {
        hosts.put(
            server.name(), Host.of(server.target(), plan.tokenFile().orElse(null), statusTimeout));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("server " + server.name() + ": " + e.getMessage(), e);
      }
    }
    return new Rollout(
        plan,
        RuntimeApi.connect(plan.haproxy(), plan.timeouts().haproxy()),
        hosts,
        InstantSource.system(),
        duration -> {
          try {
            Thread.sleep(duration);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
          }
        });
  }

  /**
   * Runs the rollout to its end; each step goes to {@code progress} as it happens.
   *
   * @throws RolloutException when it did not finish: nothing changed (a check before the first
   *     drain failed), or it was aborted and rolled back
   */
  public RolloutReport run(Consumer<RolloutEvent> progress) {
    this.started = clock.instant();
    this.progress = progress;
    try {
      return runChecked();
    } finally {
      finished.set(true);
    }
  }

  /**
   * For a rollout cut short from outside (Ctrl-C): sets every server ready with its weight from
   * before, without rolling anything back, so that the fleet is left serving. Does nothing when the
   * rollout never touched a server, or is over.
   */
  public void abandon() {
    if (touched.get() && !finished.get()) {
      emit("", "abort", "interrupted; every server is set ready, and none is rolled back");
      restore();
    }
  }

  private RolloutReport runChecked() {
    try {
      weights.putAll(Preflight.check(plan, api, hosts));
    } catch (Preflight.Refused e) {
      throw notStarted(e.getMessage());
    }
    touched.set(true);
    var batches = plan.batches();
    emit(
        "",
        "plan",
        plan.servers().size()
            + " server(s) of backend "
            + plan.backend()
            + " in "
            + batches.size()
            + " batch(es): "
            + batches.stream().map(b -> String.join("+", b)).collect(Collectors.joining(", "))
            + plan.canary()
                .map(
                    c ->
                        "; canary "
                            + c.server()
                            + " at weight "
                            + c.weight()
                            + " for "
                            + seconds(c.bake()))
                .orElse("")
            + "; new version: "
            + plan.command()
                .map(a -> String.join(" ", a))
                .orElse("each supervisor's configured command"));
    var reports = new ArrayList<RolloutReport.HostReport>();
    try {
      for (int i = 0; i < batches.size(); i++) {
        var batch = batches.get(i);
        var canary = i == 0 ? plan.canary() : Optional.<RolloutPlan.Canary>empty();
        if (canary.isPresent()) {
          var c = canary.get();
          api.setWeight(plan.backend(), c.server(), c.weight());
          emit(
              c.server(),
              "weight",
              "set to " + c.weight() + " (was " + weights.get(c.server()) + ") for the canary");
        }
        reports.addAll(moveAll(batch, Action.DEPLOY, ""));
        if (canary.isPresent()) {
          bake(canary.get());
          api.setWeight(plan.backend(), canary.get().server(), weight(canary.get().server()));
          emit(
              canary.get().server(),
              "weight",
              "restored to " + weight(canary.get().server()) + ": the canary passed");
        }
      }
      verify(reports);
    } catch (RuntimeException failure) {
      throw abort(failure);
    }
    var problems = restore();
    if (!problems.isEmpty()) {
      throw new RolloutException(
          "every server of backend "
              + plan.backend()
              + " runs the new version, but "
              + String.join("; ", problems),
          true);
    }
    var elapsed = since(started);
    emit(
        "",
        "done",
        reports.size()
            + " server(s) on the new version in "
            + seconds(elapsed)
            + "; every server is ready");
    return new RolloutReport(plan.backend(), List.copyOf(reports), elapsed);
  }

  private RolloutException notStarted(String why) {
    emit("", "failed", why);
    return new RolloutException("rollout not started: " + why + ". Nothing was changed.", false);
  }

  /** Moves a batch: one server in this thread, more each in a thread of its own, all at once. */
  private List<RolloutReport.HostReport> moveAll(List<String> batch, Action action, String reason) {
    if (batch.size() == 1) {
      return List.of(move(batch.getFirst(), action, reason));
    }
    var results = new LinkedHashMap<String, CompletableFuture<RolloutReport.HostReport>>();
    for (var server : batch) {
      var future = new CompletableFuture<RolloutReport.HostReport>();
      Thread.ofVirtual()
          .name("rollout-" + server)
          .start(
              () -> {
                try {
                  future.complete(move(server, action, reason));
                } catch (Throwable t) {
                  future.completeExceptionally(t);
                }
              });
      results.put(server, future);
    }
    var reports = new ArrayList<RolloutReport.HostReport>();
    var failures = new ArrayList<String>();
    results.forEach(
        (server, future) -> {
          try {
            reports.add(future.join());
          } catch (CompletionException e) {
            failures.add(String.valueOf((e.getCause() == null ? e : e.getCause()).getMessage()));
          }
        });
    if (!failures.isEmpty()) {
      throw new IllegalStateException(String.join("; ", failures));
    }
    return reports;
  }

  /** One server: drain, wait, deploy (or roll back), health check, ready. */
  private RolloutReport.HostReport move(String server, Action action, String reason) {
    var backend = plan.backend();
    var host = host(server);
    var t0 = clock.instant();
    var step = "drain";
    try {
      api.setState(backend, server, RuntimeApi.AdminState.DRAIN);
      emit(server, "drain", "set to drain in HAProxy; waiting for its sessions and queue to empty");
      awaitDrained(server);
      var drained = since(t0);
      emit(server, "drained", "no sessions, no queue after " + millis(drained));

      step = action == Action.DEPLOY ? "deploy" : "rollback";
      var t1 = clock.instant();
      // Marked down the moment the new generation is promoted, before the deploy's reply (which
      // waits for the old generation's drain): an agent-check that heard "drain" during the deploy
      // answers "ready" once it is over, and HAProxy must then still wait for its health check.
      var heldAt = new AtomicReference<@Nullable Instant>();
      Consumer<DeployEvent> events =
          event -> {
            relay(server).accept(event);
            var promoted =
                event.step() == DeployStep.PROMOTED || event.step() == DeployStep.RESUMED;
            if (promoted && heldAt.get() == null) {
              try {
                holdForCheck(server, event.generation());
                heldAt.set(clock.instant());
              } catch (RuntimeException e) {
                // Tried again after the reply; the deploy itself must not fail for it.
              }
            }
          };
      Reply.Done reply;
      if (action == Action.DEPLOY) {
        reply =
            host.deploy(
                plan.command().orElse(List.of()), plan.env(), plan.timeouts().deploy(), events);
        moved.add(server);
      } else {
        reply = host.rollback(reason, plan.timeouts().deploy(), events);
        moved.remove(server);
      }
      var deployed = since(t1);
      int generation = reply.generation();
      emit(
          server,
          action == Action.DEPLOY ? "deployed" : "rolled-back",
          "generation "
              + generation
              + " (pid "
              + reply.pid()
              + ") is active on "
              + host.target()
              + " after "
              + millis(deployed));

      step = "check";
      if (heldAt.get() == null) {
        holdForCheck(server, generation);
        heldAt.set(clock.instant());
      }
      awaitUp(server);
      var checked = since(Objects.requireNonNullElseGet(heldAt.get(), clock::instant));
      emit(server, "healthy", "HAProxy's health check passed after " + millis(checked));

      step = "ready";
      api.setState(backend, server, RuntimeApi.AdminState.READY);
      var total = since(t0);
      emit(server, "ready", "set ready in HAProxy; " + millis(total) + " for this server");
      return new RolloutReport.HostReport(server, generation, drained, deployed, checked, total);
    } catch (RuntimeException e) {
      var message = server + " (" + step + "): " + e.getMessage();
      emit(server, "failed", step + ": " + e.getMessage());
      throw new IllegalStateException(message, e);
    }
  }

  /**
   * Checks that each server still runs the generation the rollout promoted there: a supervisor with
   * a [bake] rolls a generation back on its own when its probe fails, after the deploy returned.
   */
  private void verify(List<RolloutReport.HostReport> reports) {
    for (var report : reports) {
      int active = host(report.server()).status().activeGeneration().orElse(-1);
      if (active != report.generation()) {
        throw new IllegalStateException(
            report.server()
                + " (verify): its supervisor no longer runs generation "
                + report.generation()
                + " but "
                + (active < 0 ? "none" : "generation " + active)
                + " (rolled back by its [bake]? see baton status there)");
      }
    }
  }

  /**
   * Marks the server down in HAProxy, so that only HAProxy's own health check, passing {@code rise}
   * times against the new generation, brings it back; and drained, again, in case an agent-check
   * cancelled the drain meanwhile.
   */
  private void holdForCheck(String server, int generation) {
    api.forceHealthDown(plan.backend(), server);
    api.setState(plan.backend(), server, RuntimeApi.AdminState.DRAIN);
    emit(
        server,
        "check",
        "marked down in HAProxy until its own health check passes against generation "
            + generation);
  }

  private Consumer<DeployEvent> relay(String server) {
    return event ->
        emit(
            server,
            "supervisor",
            String.format(
                Locale.ROOT,
                "%-9s generation %d pid %d %+.1f ms  %s",
                event.step().name().toLowerCase(Locale.ROOT),
                event.generation(),
                event.pid(),
                event.elapsed().toNanos() / 1e6,
                event.detail()));
  }

  /**
   * Waits for no sessions and no queue. An agent-check that answers "ready" cancels a drain set
   * here; the drain is then set again, so a careless agent cannot push requests onto a server that
   * is about to be deployed.
   */
  private void awaitDrained(String server) {
    var deadline = clock.instant().plus(plan.timeouts().drain());
    while (true) {
      var stats = stat(server);
      if (stats.sessions() == 0 && stats.queued() == 0) {
        return;
      }
      if (!state(server).draining()) {
        api.setState(plan.backend(), server, RuntimeApi.AdminState.DRAIN);
        emit(
            server,
            "drain",
            "set to drain again: something set it ready meanwhile (an agent-check answering 'ready'?)");
      }
      if (!clock.instant().isBefore(deadline)) {
        throw new IllegalStateException(
            "still "
                + stats.sessions()
                + " session(s) and "
                + stats.queued()
                + " queued after "
                + seconds(plan.timeouts().drain())
                + " of drain; raise --drain-timeout if its"
                + " requests are that long (websockets?)");
      }
      pause.pause(POLL);
    }
  }

  private void awaitUp(String server) {
    var deadline = clock.instant().plus(plan.timeouts().health());
    while (!state(server).up()) {
      if (!clock.instant().isBefore(deadline)) {
        var last = stat(server);
        throw new IllegalStateException(
            "HAProxy's health check has not passed within "
                + seconds(plan.timeouts().health())
                + " (last check: "
                + (last.checkStatus().isEmpty() ? "none" : last.checkStatus())
                + ", status "
                + last.status()
                + "); the new version does not answer HAProxy's check");
      }
      pause.pause(POLL);
    }
  }

  /** The canary serves at its weight for the bake; it stops early once it is clearly worse. */
  private void bake(RolloutPlan.Canary canary) {
    var others =
        api.servers(plan.backend()).stream()
            .filter(s -> !s.name().equals(canary.server()) && s.ready() && s.up())
            .map(ServerState::name)
            .toList();
    var before = statsByName();
    emit(
        canary.server(),
        "bake",
        "serving at weight "
            + canary.weight()
            + " for "
            + seconds(canary.bake())
            + "; its 5xx and failed requests are compared with "
            + String.join(", ", others)
            + "'s");
    var end = clock.instant().plus(canary.bake());
    var comparison = CanaryComparison.between(before, before, canary.server(), others);
    while (clock.instant().isBefore(end)) {
      var left = Duration.between(clock.instant(), end);
      pause.pause(left.compareTo(BAKE_POLL) < 0 ? left : BAKE_POLL);
      comparison = CanaryComparison.between(before, statsByName(), canary.server(), others);
      if (comparison.clearlyWorse()) {
        break;
      }
    }
    if (comparison.worse()) {
      throw new IllegalStateException(
          canary.server()
              + " (bake): the canary fails more requests than the other servers after "
              + millis(since(started))
              + " into the rollout: "
              + comparison);
    }
    emit(
        canary.server(),
        "baked",
        comparison.canary().requests() == 0
            ? "no request reached the canary during the bake; nothing to compare (is the backend getting traffic?)"
            : "no worse than the others: " + comparison);
  }

  /**
   * Rolls back every server already on the new version, newest first, then sets every server ready.
   */
  /** The host of a server the plan names: every one has a host from the start. */
  private Host host(String server) {
    return Objects.requireNonNull(hosts.get(server), server);
  }

  /** A server's weight before the rollout, read for every server at its start. */
  private int weight(String server) {
    return Objects.requireNonNull(weights.get(server), server);
  }

  private RolloutException abort(RuntimeException failure) {
    var reason = String.valueOf(failure.getMessage());
    emit("", "abort", reason);
    var rolledBack = new ArrayList<String>();
    var stuck = new ArrayList<String>();
    List<String> toRollBack;
    synchronized (moved) {
      toRollBack = new ArrayList<>(moved).reversed();
    }
    for (var server : toRollBack) {
      emit(server, "rollback", "back to the previous version");
      try {
        move(
            server,
            Action.ROLLBACK,
            "rollout of backend " + plan.backend() + " aborted: " + reason);
        rolledBack.add(server);
      } catch (RuntimeException e) {
        stuck.add(
            e.getMessage()
                + "; roll it back by hand: baton rollback (on "
                + host(server).target()
                + ")");
      }
    }
    var problems = restore();
    var message =
        new StringBuilder("rollout of backend " + plan.backend() + " aborted: " + reason + ". ");
    message.append(
        rolledBack.isEmpty()
            ? "No server had the new version yet"
            : "Rolled back " + String.join(", ", rolledBack));
    if (!stuck.isEmpty()) {
      message.append(". NOT rolled back: ").append(String.join("; ", stuck));
    }
    message.append(
        problems.isEmpty()
            ? ". Every server is ready in HAProxy."
            : ". " + String.join("; ", problems));
    return new RolloutException(message.toString(), true);
  }

  /**
   * Sets every server of the plan ready with its weight from before the rollout, and checks that
   * HAProxy says so. Returns what could not be done, with the command to do it by hand.
   */
  private List<String> restore() {
    var problems = new ArrayList<String>();
    Map<String, ServerState> states = Map.of();
    try {
      states =
          api.servers(plan.backend()).stream()
              .collect(Collectors.toMap(ServerState::name, s -> s, (a, b) -> a));
    } catch (RuntimeApiException e) {
      // Set them ready blind; each failure is reported below.
    }
    for (var server : plan.servers()) {
      var name = server.name();
      var state = Optional.ofNullable(states.get(name));
      try {
        if (state.isEmpty() || !state.get().ready()) {
          api.setState(plan.backend(), name, RuntimeApi.AdminState.READY);
        }
        int weight = weights.getOrDefault(name, state.map(ServerState::userWeight).orElse(-1));
        if (weight >= 0 && state.map(s -> s.userWeight() != weight).orElse(true)) {
          api.setWeight(plan.backend(), name, weight);
        }
      } catch (RuntimeApiException e) {
        problems.add(
            "could not set "
                + plan.backend()
                + "/"
                + name
                + " ready: "
                + e.getMessage()
                + "; run 'set server "
                + plan.backend()
                + "/"
                + name
                + " state ready' on HAProxy's stats socket "
                + plan.haproxy());
      }
    }
    if (problems.isEmpty()) {
      try {
        for (var s : api.servers(plan.backend())) {
          if (weights.containsKey(s.name()) && !s.ready()) {
            problems.add(
                plan.backend() + "/" + s.name() + " is still " + s.admin() + " in HAProxy");
          }
        }
      } catch (RuntimeApiException e) {
        problems.add("could not check the servers' states: " + e.getMessage());
      }
    }
    emit(
        "",
        "restore",
        problems.isEmpty()
            ? "every server is ready, with its weight from before the rollout"
            : String.join("; ", problems));
    return problems;
  }

  private ServerStats stat(String server) {
    return api.stats(plan.backend()).stream()
        .filter(s -> s.name().equals(server))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "server " + server + " vanished from HAProxy's backend " + plan.backend()));
  }

  private ServerState state(String server) {
    return api.servers(plan.backend()).stream()
        .filter(s -> s.name().equals(server))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "server " + server + " vanished from HAProxy's backend " + plan.backend()));
  }

  private Map<String, ServerStats> statsByName() {
    return api.stats(plan.backend()).stream()
        .collect(Collectors.toMap(ServerStats::name, s -> s, (a, b) -> a));
  }

  private void emit(String server, String step, String detail) {
    var event = new RolloutEvent(since(started), server, step, detail);
    synchronized (this) {
      progress.accept(event);
    }
  }

  private Duration since(Instant t) {
    return Duration.between(t, clock.instant());
  }

  private static String millis(Duration d) {
    return d.toMillis() + " ms";
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0
        ? d.toSeconds() + " s"
        : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }
}
