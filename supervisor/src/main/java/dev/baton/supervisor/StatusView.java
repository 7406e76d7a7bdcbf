package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.protocol.Status;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** What {@code baton status} shows of a supervisor: a snapshot taken on its loop. */
final class StatusView {
  private StatusView() {}

  static Status of(
      Supervisor supervisor,
      @Nullable ListenerSet listeners,
      boolean deploying,
      CrashRestart crashRestart) {
    var generations = supervisor.generations();
    var ls =
        listeners == null
            ? List.<Status.ListenerStatus>of()
            : Stream.concat(
                    listeners.all().stream().map(b -> listener(generations, b, false)),
                    listeners.retired().stream().map(b -> listener(generations, b, true)))
                .toList();
    return generations.status(
        supervisor.os().pid(), deploying, crashRestart.crashLoop().orElse(null), ls);
  }

  private static Status.ListenerStatus listener(
      Generations generations, ListenerSet.Bound b, boolean retired) {
    return new Status.ListenerStatus(
        b.config().name(),
        b.address(),
        b.config().pass() == Config.Pass.FD0 ? "fd0" : "listen-fds",
        b.fd().value(),
        generations.live().stream().filter(g -> g.holds(b)).map(g -> g.number).toList(),
        retired,
        b.mode());
  }
}
