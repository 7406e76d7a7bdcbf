package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Fd;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the service back after the supervisor was killed, or re-executed by an upgrade: the
 * generations kept serving on the listeners they hold, so the listeners and the read ends of their
 * output pipes are taken back from them (pidfd_getfd), and they are held again through new pidfds.
 */
final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  /**
   * Returns what was recovered; empty when there was nothing to recover.
   *
   * @throws StartException when the state cannot be recovered safely; nothing is changed then
   */
  static Optional<String> recover(Supervisor supervisor) {
    var os = supervisor.os();
    var config = supervisor.config();
    var journal = supervisor.journalFile();
    var state = journal.read();
    if (state.isEmpty()) {
      return Optional.empty();
    }
    var saved = state.get();
    if (!saved.bootId().equals(os.bootId())) {
      // Its own (the key says so), from before a reboot: every process it names is gone.
      LOG.warn(
          "the state journal {} is from an earlier boot; nothing it names can run any more, so the service starts afresh",
          journal.path());
      journal.delete();
      return Optional.empty();
    }
    if (saved.uid() != os.uid()) {
      throw StateJournal.refused(
          journal.path(),
          "it was written by a supervisor of uid "
              + saved.uid()
              + ", and this one runs as uid "
              + os.uid(),
          "Run baton as uid "
              + saved.uid()
              + ", or remove "
              + journal.path()
              + " if you did not write it, and start again");
    }
    if (saved.supervisorPid() != os.pid()
        && os.startTime(saved.supervisorPid()).isPresent()
        && isSupervisor(saved.supervisorPid())) {
      throw new StartException(
          "another supervisor (pid "
              + saved.supervisorPid()
              + ") runs this service, per "
              + journal.path()
              + "; stop it first, or use its control socket");
    }
    var live = verifiedLive(supervisor, saved);
    if (live.isEmpty()) {
      LOG.info("the state journal names no generation that still runs; starting afresh");
      journal.delete();
      return Optional.empty();
    }
    var expected = config.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    var recorded = saved.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    if (!expected.equals(recorded)) {
      throw new StartException(
          "cannot recover: generation(s) "
              + live.stream().map(g -> "pid " + g.pid()).toList()
              + " still run and hold listeners "
              + recorded
              + ", but "
              + config.file()
              + " now says "
              + expected
              + "; restore the config, or stop those processes and start again");
    }
    var donor =
        live.stream()
            .filter(g -> g.state().equals("active"))
            .findFirst()
            .or(
                () ->
                    live.stream()
                        .filter(g -> g.state().equals("parked") || g.state().equals("draining"))
                        .findFirst());
    if (donor.isEmpty()) {
      // Only generations that were still starting: their deploy's caller is gone. End them.
      live.forEach(g -> os.signalGroup(g.pid(), Signal.KILL));
      journal.delete();
      return Optional.empty();
    }
    // The active generation holds every listener, unless the supervisor died during a deploy that
    // added one: then a generation started by that deploy holds it.
    var donors = new ArrayList<StateJournal.GenerationEntry>(List.of(donor.get()));
    live.stream().filter(g -> g != donor.get()).forEach(donors::add);
    var fds = new ArrayList<Fd>();
    for (int i = 0; i < saved.listeners().size(); i++) {
      var l = saved.listeners().get(i);
      // A steered listener's anchor was ours alone and died with us: a generation's own socket
      // tells ListenerSet.adopt where to bind a new one.
      boolean steered = config.listeners().get(i).steer() == Config.Steer.BPF;
      Optional<Fd> fd = Optional.empty();
      for (var g : donors) {
        var socket = steered ? g.sockets().get(l.name()) : l.socket();
        fd = socket == null ? fd : os.takeFd(g.pid(), socket, /* forReading= */ false);
        if (fd.isPresent()) {
          break;
        }
      }
      if (fd.isEmpty()) {
        fds.forEach(os::close);
        throw new StartException(
            "cannot recover: pid "
                + donor.get().pid()
                + " no longer holds listener '"
                + l.name()
                + "' ("
                + l.socket()
                + "), or baton may not inspect it (it needs the same uid, or CAP_SYS_PTRACE)"
                + "; stop the service's processes and start again");
      }
      fds.add(fd.get());
    }
    var adopted =
        ListenerSet.adopt(
            os,
            config,
            fds,
            saved.listeners().stream().map(StateJournal.ListenerEntry::steering).toList());
    supervisor.listeners(adopted);
    var generations = supervisor.generations();
    generations.continueNumbersFrom(saved.nextNumber());
    var summary = new ArrayList<String>();
    for (var g : live) {
      var generation = adopt(supervisor, g);
      // The journal keeps the listeners of the config only: each generation is taken to hold them,
      // and its own socket of each steered one.
      generation.own = ownSockets(supervisor, adopted, g);
      generation.listeners =
          adopted.all().stream()
              .map(b -> b.steered() ? generation.own.get(b.config().name()) : b.fd())
              .filter(java.util.Objects::nonNull)
              .toList();
      generation.paused = g.paused();
      supervisor.adopt(generation, g.pendingOutput());
      switch (generation.state()) {
        case ACTIVE -> {
          generations.recoverActive(generation);
          g.bakeUntil().ifPresent(until -> resumeBake(supervisor, generation, until));
        }
        case PARKED -> {
          generations.park(generation, Integer.MAX_VALUE);
          keepExpiry(supervisor, generation, g.parkedUntil().orElse(null));
        }
        case DRAINING -> {
          generations.retire(generation); // counted against [drain] max_draining
          supervisor.retire().killAfter(generation, config.drain().timeout());
        }
        default -> supervisor.retire().kill(generation);
      }
      summary.add(generation + " " + generation.state().label());
    }
    generations.active().ifPresent(adopted.own()::steerTo);
    // What was draining was not hurried as far as this process knows: more than max_draining of
    // them (the config lowered it, or hurried ones were still running) are hurried now.
    supervisor.retire().hurryBeyondMax();
    return Optional.of(String.join(", ", summary));
  }

  /**
   * {@code g}'s own sockets of the steered listeners, taken back from it. One it no longer holds is
   * left out: it takes no connection then, and is parked or drained like the others.
   */
  private static Map<String, Fd> ownSockets(
      Supervisor supervisor, ListenerSet adopted, StateJournal.GenerationEntry g) {
    var own = new LinkedHashMap<String, Fd>();
    for (var b : adopted.all()) {
      var socket = g.sockets().get(b.config().name());
      if (!b.steered() || socket == null) {
        continue;
      }
      supervisor
          .os()
          .takeFd(g.pid(), socket, /* forReading= */ false)
          .ifPresentOrElse(
              fd -> own.put(b.config().name(), fd),
              () ->
                  LOG.warn(
                      "pid {} no longer holds its socket of listener '{}'",
                      g.pid(),
                      b.config().name()));
    }
    return Map.copyOf(own);
  }

  /** Says what was taken back, to the log and to systemd: the service is up again. */
  static void announce(Supervisor supervisor, String summary) {
    LOG.info("recovered: {}", summary);
    var active = supervisor.generations().active().map(g -> g.number).orElse(0);
    Systemd.notify(
        supervisor.os(),
        "READY=1\nSTATUS=recovered; generation "
            + active
            + " active\nMAINPID="
            + supervisor.os().pid());
  }

  /**
   * The generations the journal names that still run (same pid, same start time), each checked to
   * be one this service started; a pid that is gone is dropped, one that runs but is not ours
   * refuses the whole journal. Ours means: same uid, leads its own process group (as every
   * generation is spawned), and either, after an upgrade (the journal is this very process's: same
   * pid, same start time), a generation that was the writer's child is this process's child still;
   * or else (after a crash its parent is init or a subreaper; or it was adopted before an upgrade)
   * it is in the session it was recorded in, which, under systemd, is this service's alone.
   */
  private static List<StateJournal.GenerationEntry> verifiedLive(
      Supervisor supervisor, StateJournal.State saved) {
    var os = supervisor.os();
    var path = supervisor.journalFile().path();
    boolean upgraded =
        saved.supervisorPid() == os.pid()
            && os.startTime(os.pid()).equals(OptionalLong.of(saved.supervisorStartTime()));
    var live = new ArrayList<StateJournal.GenerationEntry>();
    for (var g : saved.generations()) {
      if (!GenerationState.ofLabel(g.state()).isLive() || g.startTime() == 0) {
        continue;
      }
      var stat = os.processStat(g.pid());
      if (stat.isEmpty() || stat.get().startTime() != g.startTime()) {
        continue; // gone, or its pid reused: nothing of ours to take back
      }
      var p = stat.get();
      String why = null;
      if (p.uid() != os.uid()) {
        why = "it runs as uid " + p.uid() + ", not " + os.uid();
      } else if (p.group() != p.pid()) {
        why = "it does not lead its own process group (it is in group " + p.group() + ")";
      } else if (upgraded && g.child()) {
        if (p.parent() != os.pid()) {
          why = "its parent is pid " + p.parent() + ", not this supervisor (pid " + os.pid() + ")";
        }
      } else if (p.session() != g.session()) {
        why =
            "it is in session "
                + p.session()
                + ", not in session "
                + g.session()
                + " where it was started";
      }
      if (why != null) {
        throw StateJournal.refused(
            path,
            "pid "
                + p.pid()
                + " (generation "
                + g.number()
                + ") is not a generation of"
                + " this service: "
                + why,
            "Remove " + path + " if you did not write it, and start again");
      }
      live.add(g);
    }
    return live;
  }

  /**
   * A parked generation is drained when its [park] ttl runs out, counted from when it was parked;
   * {@code until} is null in the journal of an older baton.
   */
  private static void keepExpiry(
      Supervisor supervisor, Generation generation, @Nullable Instant until) {
    if (until == null) {
      supervisor
          .retire()
          .expireAfterTtl(generation); // a journal of an older baton: a full ttl from now
      return;
    }
    supervisor.journalFile().parkedUntil(generation.number, until);
    var left = Duration.between(supervisor.loop().now(), until);
    generation.expiry =
        Optional.of(supervisor.loop().after(left, () -> supervisor.retire().expire(generation)));
  }

  /** An active generation that was still baking goes on baking until its bake was due to end. */
  private static void resumeBake(Supervisor supervisor, Generation generation, Instant until) {
    var bake = supervisor.config().bake();
    if (bake.isEmpty() || generation.probeAddress.isEmpty()) {
      return;
    }
    var left = Duration.between(supervisor.loop().now(), until);
    if (left.isPositive()) {
      LOG.info("{} goes on baking for {} ms", generation, left.toMillis());
      Bake.start(
          supervisor,
          generation,
          new Config.Bake(left, bake.get().interval(), bake.get().failures()));
    }
  }

  private static Generation adopt(Supervisor supervisor, StateJournal.GenerationEntry g) {
    var os = supervisor.os();
    var app = new Config.App(g.command(), g.env(), Path.of(g.workdir()));
    var stdout = os.takeFd(g.pid(), g.outputPipes().get(0), /* forReading= */ true);
    var stderr = os.takeFd(g.pid(), g.outputPipes().get(1), /* forReading= */ true);
    if (stdout.isEmpty() || stderr.isEmpty()) {
      // The app closed the read ends it was given, so its output pipes broke when we died.
      LOG.warn(
          "pid {} holds no read end of its output pipes any more; its output is lost from here on",
          g.pid());
    }
    var process = os.adopt(g.pid(), stdout.orElse(null), stderr.orElse(null));
    var probe =
        g.probeAddress()
            .map(
                a ->
                    new InetSocketAddress(
                        InetAddress.getLoopbackAddress(),
                        Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))))
            .orElse(null);
    var generation =
        new Generation(
            g.number(),
            app,
            g.started(),
            process,
            probe,
            g.startTime(),
            GenerationState.ofLabel(g.state()));
    generation.promotedAt = g.promoted();
    generation.readiness = "recovered after a supervisor restart";
    return generation;
  }

  private static boolean isSupervisor(int pid) {
    try {
      return Files.readString(Path.of("/proc", Integer.toString(pid), "cmdline"))
          .contains("dev.baton.cli.Main");
    } catch (IOException e) {
      return false;
    }
  }
}
