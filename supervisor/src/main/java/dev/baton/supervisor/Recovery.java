package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Fd;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
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
    if (saved.supervisorPid() != os.pid() && os.startTime(saved.supervisorPid()).isPresent()
        && isSupervisor(saved.supervisorPid())) {
      throw new StartException("another supervisor (pid " + saved.supervisorPid() + ") runs this service, per "
          + journal.path() + "; stop it first, or use its control socket");
    }
    var live = saved.generations().stream()
        .filter(g -> GenerationState.ofLabel(g.state()).isLive())
        .filter(g -> g.startTime() != 0 && os.startTime(g.pid()).equals(OptionalLong.of(g.startTime())))
        .toList();
    if (live.isEmpty()) {
      LOG.info("the state journal names no generation that still runs; starting afresh");
      journal.delete();
      return Optional.empty();
    }
    var expected = config.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    var recorded = saved.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    if (!expected.equals(recorded)) {
      throw new StartException("cannot recover: generation(s) " + live.stream().map(g -> "pid " + g.pid()).toList()
          + " still run and hold listeners " + recorded + ", but " + config.file() + " now says " + expected
          + "; restore the config, or stop those processes and start again");
    }
    var donor = live.stream().filter(g -> g.state().equals("active")).findFirst()
        .or(() -> live.stream().filter(g -> g.state().equals("parked") || g.state().equals("draining")).findFirst());
    if (donor.isEmpty()) {
      // Only generations that were still starting: their deploy's caller is gone. End them.
      live.forEach(g -> os.signalGroup(g.pid(), Signal.KILL));
      journal.delete();
      return Optional.empty();
    }
    var fds = new ArrayList<Fd>();
    for (var l : saved.listeners()) {
      var fd = os.takeFd(donor.get().pid(), l.socket(), /* forReading= */ false);
      if (fd.isEmpty()) {
        fds.forEach(os::close);
        throw new StartException("cannot recover: pid " + donor.get().pid() + " no longer holds listener '" + l.name()
            + "' (" + l.socket() + "), or baton may not inspect it (it needs the same uid, or CAP_SYS_PTRACE)"
            + "; stop the service's processes and start again");
      }
      fds.add(fd.get());
    }
    supervisor.listeners(ListenerSet.adopt(os, config, fds));
    var generations = supervisor.generations();
    generations.continueNumbersFrom(saved.nextNumber());
    var summary = new ArrayList<String>();
    for (var g : live) {
      var generation = adopt(supervisor, g);
      supervisor.adopt(generation, g.pendingOutput());
      switch (generation.state()) {
        case ACTIVE -> generations.recoverActive(generation);
        case PARKED -> {
          generations.park(generation, Integer.MAX_VALUE);
          supervisor.retire().expireAfterTtl(generation);
        }
        case DRAINING -> supervisor.retire().killAfter(generation, config.drain().timeout());
        default -> supervisor.retire().kill(generation);
      }
      summary.add(generation + " " + generation.state().label());
    }
    return Optional.of(String.join(", ", summary));
  }

  private static Generation adopt(Supervisor supervisor, StateJournal.GenerationEntry g) {
    var os = supervisor.os();
    var app = new Config.App(g.command(), g.env(), Path.of(g.workdir()));
    var stdout = os.takeFd(g.pid(), g.outputPipes().get(0), /* forReading= */ true);
    var stderr = os.takeFd(g.pid(), g.outputPipes().get(1), /* forReading= */ true);
    if (stdout.isEmpty() || stderr.isEmpty()) {
      // The app closed the read ends it was given, so its output pipes broke when we died.
      LOG.warn("pid {} holds no read end of its output pipes any more; its output is lost from here on", g.pid());
    }
    var process = os.adopt(g.pid(), stdout, stderr);
    var probe = g.probeAddress().map(a -> new InetSocketAddress(InetAddress.getLoopbackAddress(),
        Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))));
    var generation = new Generation(g.number(), app, g.started(), process, probe, g.startTime(),
        GenerationState.ofLabel(g.state()));
    generation.promotedAt = g.promoted();
    generation.readiness = "recovered after a supervisor restart";
    return generation;
  }

  private static boolean isSupervisor(int pid) {
    try {
      return Files.readString(Path.of("/proc", Integer.toString(pid), "cmdline")).contains("dev.baton.cli.Main");
    } catch (IOException e) {
      return false;
    }
  }

}
