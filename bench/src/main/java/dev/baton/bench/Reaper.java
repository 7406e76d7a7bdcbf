package dev.baton.bench;

import dev.baton.os.ChildProcess;
import dev.baton.os.Os;
import dev.baton.os.Poller;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/**
 * Completes the exit of every process bench started. A child's exit is known only once it is
 * reaped, which the os seam does without blocking when its pidfd turns readable; one thread waits
 * on all of their pidfds at once in a {@link Poller} and reaps each as it exits.
 */
final class Reaper {
  private static @Nullable Reaper instance;

  private final Poller poller;
  private final ConcurrentLinkedQueue<ChildProcess> added = new ConcurrentLinkedQueue<>();
  // Touched by the reaper's thread only.
  private final Map<Long, ChildProcess> watched = new HashMap<>();
  private long nextToken;

  private Reaper(Os os) {
    this.poller = os.poller();
  }

  /** Reaps {@code process} once it exits, completing its {@link ChildProcess#exit()}. */
  static synchronized void watch(Os os, ChildProcess process) {
    if (instance == null) {
      instance = new Reaper(os);
      Thread.ofPlatform().daemon().name("bench-reaper").start(instance::run);
    }
    instance.added.add(process);
    instance.poller.wakeup();
  }

  private void run() {
    var tokens = new long[64];
    var events = new int[64];
    while (true) {
      for (var p = added.poll(); p != null; p = added.poll()) {
        long token = nextToken++;
        watched.put(token, p);
        poller.watch(p.exitFd(), Poller.READABLE, token);
      }
      int n = poller.poll(tokens, events, -1);
      for (int i = 0; i < n; i++) {
        var process = watched.remove(tokens[i]);
        if (process != null) {
          // Unwatched before reap() closes the pidfd; watched again if it had not exited after all.
          poller.unwatch(process.exitFd());
          if (process.reap().isEmpty()) {
            added.add(process);
          }
        }
      }
    }
  }
}
