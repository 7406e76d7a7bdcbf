package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.NotifyMessage;
import dev.baton.os.NotifySocket;
import dev.baton.os.Poller;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NOTIFY_SOCKET, read on the loop: READY=1 and STATUS= from the generations. systemd's
 * NotifyAccess=main: only a live generation's main process speaks for it, by its pid from
 * SCM_CREDENTIALS.
 */
final class NotifyReader {
  private static final Logger LOG = LoggerFactory.getLogger(NotifyReader.class);

  private NotifyReader() {}

  static NotifySocket open(Supervisor supervisor, Path path) {
    NotifySocket socket;
    try {
      socket = supervisor.os().openNotifySocket(path);
    } catch (NativeException e) {
      throw new StartException("cannot open the notify socket " + path + ": " + e.getMessage());
    }
    supervisor
        .loop()
        .watch(
            socket.fd(),
            Poller.READABLE,
            events -> {
              for (var m = socket.receiveNow(); m.isPresent(); m = socket.receiveNow()) {
                heard(supervisor.generations(), m.get());
              }
            });
    return socket;
  }

  private static void heard(Generations generations, NotifyMessage message) {
    var sender = generations.byPid(message.pid());
    if (sender.isEmpty()) {
      LOG.debug(
          "ignored a notify message from pid {}, which is no generation's main process",
          message.pid());
      return;
    }
    var fields = message.fields();
    if (fields.containsKey("STATUS")) {
      sender.get().notifyStatus = fields.get("STATUS");
    }
    if ("1".equals(fields.get("READY"))) {
      sender.get().notifiedReady.complete(null);
    }
  }
}
