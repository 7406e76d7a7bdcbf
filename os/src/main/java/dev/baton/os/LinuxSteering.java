package dev.baton.os;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link Steering} with a BPF_MAP_TYPE_REUSEPORT_SOCKARRAY of one slot and the
 * BPF_PROG_TYPE_SK_REUSEPORT program of {@link LibcBpf#steeringProgram} selecting from it.
 */
final class LinuxSteering implements Steering {
  /**
   * How long {@link #select} waits for the kernel to free a replaced program's map, which still
   * holds the listener to select: far more than the 20 ms it takes on an idle machine.
   */
  private static final Duration RELEASE_WAIT = Duration.ofSeconds(2);

  private static final Duration RETRY_PAUSE = Duration.ofMillis(1);

  private final int map;
  private final int program;
  private boolean closed;

  LinuxSteering() {
    map = LibcBpf.createSocketArray("bpf(BPF_MAP_CREATE, REUSEPORT_SOCKARRAY)");
    try {
      program = LibcBpf.loadSteeringProgram(map, "bpf(BPF_PROG_LOAD, SK_REUSEPORT)");
    } catch (RuntimeException e) {
      Libc.close(map);
      throw e;
    }
  }

  /**
   * Why this process cannot steer, or empty when it can: the answer of loading the program and
   * creating the map, which fail for the same reasons a {@link Steering} would.
   */
  static Optional<String> probe() {
    try {
      new LinuxSteering().close();
      return Optional.empty();
    } catch (NativeException e) {
      return Optional.of(
          e.getMessage()
              + (e.errno() == LibcBpf.EPERM
                  ? ": steering a SO_REUSEPORT group needs root, or CAP_BPF and CAP_NET_ADMIN"
                  : ""));
    }
  }

  @Override
  public synchronized void attach(Fd listener) {
    checkOpen();
    LibcBpf.attachToGroup(
        listener.value(), program, "setsockopt(" + listener + ", SO_ATTACH_REUSEPORT_EBPF)");
  }

  @Override
  public synchronized void select(Fd listener) {
    checkOpen();
    String what = "bpf(BPF_MAP_UPDATE_ELEM, slot 0 = " + listener + ")";
    long deadline = System.nanoTime() + RELEASE_WAIT.toNanos();
    while (true) {
      try {
        LibcBpf.putSocket(map, listener.value(), what);
        return;
      } catch (NativeException e) {
        if (e.errno() != LibcBpf.EBUSY) {
          throw e;
        }
        // The kernel refuses a socket that a socket array already holds, ours included: selecting
        // the selected listener again would fail, not change nothing. Our slot's cookie tells.
        if (isSelected(listener)) {
          return;
        }
        // Another array holds it: after a takeover, the replaced program's, which the kernel frees
        // (and with it that array's hold on its sockets) only after RCU grace periods, some 20 ms.
        if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
          throw e.withDetail("another steering's map, still attached or open, holds the socket");
        }
        LockSupport.parkNanos(RETRY_PAUSE.toNanos());
      }
    }
  }

  private boolean isSelected(Fd listener) {
    var selected = LibcBpf.socketCookieInSlot(map, "bpf(BPF_MAP_LOOKUP_ELEM, slot 0)");
    return selected.isPresent()
        && selected.getAsLong()
            == LibcBpf.socketCookie(listener.value(), "getsockopt(" + listener + ", SO_COOKIE)");
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("steering is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      try {
        Libc.close(program);
      } finally {
        Libc.close(map);
      }
    }
  }
}
