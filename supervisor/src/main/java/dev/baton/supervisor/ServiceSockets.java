package dev.baton.supervisor;

import dev.baton.os.NotifySocket;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The supervisor's own sockets beside the listeners, in its runtime directory: NOTIFY_SOCKET,
 * BATON_CONTROL and the control socket. Opened together at start and closed together, once,
 * whichever of a failed start and a stop comes first.
 */
final class ServiceSockets {
  private @Nullable NotifySocket notify;
  private @Nullable AppControl appControl;
  private @Nullable ControlServer control;
  private boolean closed;

  /** Opens them next to {@code runtime}/{@code name}; on a failure, closes what it opened. */
  static ServiceSockets open(Supervisor supervisor, Path runtime, String name) {
    var sockets = new ServiceSockets();
    var loop = supervisor.loop();
    var os = supervisor.os();
    try {
      sockets.notify = NotifyReader.open(supervisor, runtime.resolve(name + ".notify"));
      sockets.appControl =
          AppControl.open(
              loop, os, runtime.resolve(name + ".app"), supervisor.generations()::byPid);
      // Up before the first generation: systemd's READY=1 promises that `baton status` works.
      sockets.control = ControlServer.open(supervisor, loop, os);
    } catch (RuntimeException e) {
      sockets.close(supervisor.loop());
      throw e;
    }
    return sockets;
  }

  Path notifyPath() {
    return java.util.Objects.requireNonNull(notify).path();
  }

  Path appControlPath() {
    return java.util.Objects.requireNonNull(appControl).path();
  }

  void close(Loop loop) {
    if (closed) {
      return;
    }
    closed = true;
    if (control != null) {
      control.close();
    }
    if (appControl != null) {
      appControl.close();
    }
    if (notify != null) {
      loop.unwatch(notify.fd());
      notify.close();
    }
  }
}
