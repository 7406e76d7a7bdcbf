package dev.baton.supervisor;

import dev.baton.os.Fd;
import dev.baton.os.NativeException;
import dev.baton.os.Poller;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An epoll set over {@link FakeOs}'s descriptors that never blocks: {@link #poll} reports, for each
 * watched descriptor, what it is ready for now, masked by its interest (an interest of 0 reports
 * nothing), in the order the descriptors became ready, as epoll's ready list keeps them.
 *
 * <p>It also remembers the timeout the loop handed it: 0 when the loop has posted tasks or due
 * timers, the time to its next timer otherwise, -1 with none. That is how {@link Harness} knows the
 * loop has nothing left to do, and when its next timer is due.
 */
final class FakePoller implements Poller {
  private record Watch(int interest, long token) {}

  private final FakeOs os;
  private final Map<Fd, Watch> watched = new LinkedHashMap<>();
  private boolean closed;
  private int lastReported;
  private long lastTimeout = -1;
  private int wakeups;

  FakePoller(FakeOs os) {
    this.os = os;
  }

  @Override
  public void watch(Fd fd, int interest, long token) {
    if (closed || os.file(fd) == null) {
      throw new NativeException("epoll_ctl(" + fd + ")", 9, "EBADF", "Bad file descriptor");
    }
    watched.put(fd, new Watch(interest, token));
  }

  @Override
  public void unwatch(Fd fd) {
    watched.remove(fd);
  }

  @Override
  public int poll(long[] tokens, int[] events, long timeoutMillis) {
    if (closed) {
      throw new IllegalStateException("poll on a closed poller");
    }
    lastTimeout = timeoutMillis;
    record Ready(FakeFile file, long token, int events) {}
    var ready = new ArrayList<Ready>();
    watched.forEach(
        (fd, watch) -> {
          var file = os.file(fd);
          if (file != null) {
            int now = file.readiness() & watch.interest();
            if (now != 0) {
              ready.add(new Ready(file, watch.token(), now));
            }
          }
        });
    ready.sort(Comparator.comparingLong(r -> r.file().touched));
    int n = Math.min(ready.size(), tokens.length);
    for (int i = 0; i < n; i++) {
      tokens[i] = ready.get(i).token();
      events[i] = ready.get(i).events();
      ready.get(i).file().touch(); // level-triggered: back to the end of the list
    }
    lastReported = n;
    return n;
  }

  @Override
  public void wakeup() {
    wakeups++;
  }

  @Override
  public void close() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }

  boolean watches(Fd fd) {
    return watched.containsKey(fd);
  }

  /** What the last {@link #poll} reported. */
  int lastReported() {
    return lastReported;
  }

  /** The timeout the loop handed the last {@link #poll}. */
  long lastTimeout() {
    return lastTimeout;
  }

  int wakeups() {
    return wakeups;
  }

  /**
   * The watched descriptors, as "fd=7 pipe:[12] interest=1": to explain a loop that never settles.
   */
  List<String> describe() {
    var all = new ArrayList<String>();
    watched.forEach(
        (fd, watch) -> {
          var file = os.file(fd);
          all.add(
              fd
                  + " "
                  + (file == null ? "(closed)" : file.link() + " ready=" + file.readiness())
                  + " interest="
                  + watch.interest());
        });
    return all;
  }
}
