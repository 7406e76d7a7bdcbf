package dev.baton.supervisor;

import dev.baton.app.ControlWord;
import dev.baton.os.ExitStatus;
import dev.baton.os.NotifyMessage;
import dev.baton.os.Signal;
import dev.baton.os.SpawnSpec;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A generation's process as the test plays it: it says READY=1, prints, exits, answers probes, and,
 * when the test makes it baton-app, speaks BATON_CONTROL ({@code HELLO <n>}, then {@code PAUSED}
 * for PAUSE and {@code RESUMED} for RESUME). It outlives the supervisor that spawned it.
 */
final class FakeProcess {
  private final FakeOs os;
  final int pid;
  final SpawnSpec spec;
  final Instant spawnedAt;
  final long startTime;
  final FakePipe stdout;
  final FakePipe stderr;
  private final Optional<InetSocketAddress> probeAddress;

  /** The files it holds: the listeners it was given and the read ends of its own output pipes. */
  final List<FakeFile> held = new ArrayList<>();

  /** Its parent's pid: the supervisor that spawned it, or 1 once that one died. */
  int parent;

  /** Every signal that reached it while it ran, in order. */
  final List<Signal> signals = new ArrayList<>();

  Optional<ExitStatus> status = Optional.empty();

  /** Reaped, by us or by init: its pid is free, and startTime() no longer finds it. */
  boolean gone;

  /** The signal it drains on, exiting 0; null for an app that ignores it and needs SIGKILL. */
  Signal drainsOn = Signal.TERM;

  /** What its probe listener answers; -1 for no answer. */
  int health = 200;

  /** The paths it was probed on. */
  final List<String> probes = new ArrayList<>();

  // baton-app
  private FakeSockets.Connection control;
  private boolean readySent;
  private String statusLine;

  /** Whether it answers PAUSE and RESUME; one that does not leaves the supervisor to time out. */
  boolean answersPause = true;

  boolean answersResume = true;

  /** Whether it accepts on the public listeners: baton-app starts paused under baton. */
  boolean paused;

  /** The supervisor's lines on BATON_CONTROL, in order. */
  final List<String> heard = new ArrayList<>();

  FakeProcess(
      FakeOs os,
      int pid,
      SpawnSpec spec,
      int parent,
      Instant spawnedAt,
      List<FakeFile> listeners,
      int inode) {
    this.os = os;
    this.pid = pid;
    this.spec = spec;
    this.parent = parent;
    this.spawnedAt = spawnedAt;
    this.startTime = 5000L + pid;
    this.stdout = new FakePipe(os, inode);
    this.stderr = new FakePipe(os, inode + 1);
    held.addAll(listeners);
    var last = listeners.isEmpty() ? null : listeners.getLast();
    probeAddress =
        spec.env().getOrDefault("LISTEN_FDNAMES", "").endsWith("baton-probe")
                && last instanceof FakeSockets.ListenSocket s
            ? Optional.ofNullable(s.local)
            : Optional.empty();
    held.add(stdout);
    held.add(stderr);
    paused = "paused".equals(spec.env().get("BATON_START"));
  }

  /** BATON_GENERATION, or 0 for a process that is no generation. */
  int generation() {
    return Integer.parseInt(spec.env().getOrDefault("BATON_GENERATION", "0"));
  }

  /** The address of its private probe listener, named baton-probe in LISTEN_FDNAMES. */
  Optional<InetSocketAddress> probeAddress() {
    return probeAddress;
  }

  boolean hasExited() {
    return status.isPresent();
  }

  // sd_notify and output

  /** READY=1 on NOTIFY_SOCKET. */
  void ready() {
    notify("READY=1");
  }

  /**
   * A datagram to NOTIFY_SOCKET from this pid; lost when nothing is bound there, as with a real
   * socket.
   */
  void notify(String text) {
    var socket = os.notifySockets.get(spec.env().get("NOTIFY_SOCKET"));
    if (socket != null) {
      socket.deliver(new NotifyMessage(pid, FakeOs.UID, text));
    }
  }

  void print(String text) {
    stdout.write(text);
  }

  void printErr(String text) {
    stderr.write(text);
  }

  /**
   * The app closes the read ends of its output pipes it was given: a new supervisor cannot take
   * them back.
   */
  void closeOutputReadEnds() {
    held.remove(stdout);
    held.remove(stderr);
  }

  // Life and death

  void exitWith(int code) {
    exit(ExitStatus.exited(code));
  }

  void deliver(Signal signal) {
    if (status.isPresent()) {
      return;
    }
    signals.add(signal);
    if (signal == Signal.KILL) {
      exit(ExitStatus.killed(Signal.KILL.number()));
    } else if (signal == drainsOn) {
      exit(ExitStatus.exited(0));
    }
  }

  /** Exits: its files close (its output pipes reach EOF first), then its pidfds turn readable. */
  private void exit(ExitStatus exit) {
    if (status.isPresent()) {
      return;
    }
    stdout.closeWriter();
    stderr.closeWriter();
    if (control != null) {
      control.close();
      control = null;
    }
    held.clear();
    status = Optional.of(exit);
    handles.forEach(FakeChild::exited);
    if (parent != os.pid()) {
      gone = true; // not the supervisor's child: init reaps it
    }
  }

  final List<FakeChild> handles = new ArrayList<>();

  // baton-app on BATON_CONTROL

  /**
   * Connects to BATON_CONTROL and says HELLO, and READY and STATUS again if it said them before.
   */
  void connectControl() {
    control = os.connect(Path.of(spec.env().get("BATON_CONTROL")), pid, FakeOs.UID);
    control.send(ControlWord.HELLO.line(Integer.toString(generation())));
    if (readySent) {
      control.send(ControlWord.READY.line());
    }
    if (statusLine != null) {
      control.send(statusLine);
    }
  }

  /** baton-app's ready(): READY on BATON_CONTROL. */
  void batonReady() {
    readySent = true;
    say(ControlWord.READY.line());
  }

  void batonStatus(String text) {
    statusLine = ControlWord.STATUS.line(text);
    say(statusLine);
  }

  /** Any line on BATON_CONTROL, while connected. */
  void say(String line) {
    if (control != null && !control.isClosedByPeer()) {
      control.send(line);
    }
  }

  /** Sends raw bytes on BATON_CONTROL. */
  void sayRaw(String text) {
    control.sendRaw(text);
  }

  boolean connectedToControl() {
    return control != null && !control.isClosedByPeer();
  }

  /** Reads and obeys what the supervisor said; true if there was anything. */
  boolean step() {
    if (control == null) {
      return false;
    }
    boolean acted = false;
    for (var line : control.newLines()) {
      acted = true;
      heard.add(line);
      var word = ControlWord.parse(line).map(ControlWord.Message::word).orElse(null);
      if (word == ControlWord.PAUSE && answersPause) {
        paused = true;
        control.send(ControlWord.PAUSED.line());
      } else if (word == ControlWord.RESUME && answersResume) {
        paused = false;
        control.send(ControlWord.RESUMED.line());
      }
    }
    if (control.isClosedByPeer()) {
      control.close();
      control = null;
      acted = true;
    }
    return acted;
  }

  @Override
  public String toString() {
    return "process " + pid + " (generation " + generation() + ")";
  }
}
