package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.Os;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The supervisor as a systemd Type=notify service: READY=1 with MAINPID, STATUS=, STOPPING=1. */
final class Systemd {
  private static final Logger LOG = LoggerFactory.getLogger(Systemd.class);

  private Systemd() {}

  /** Sends {@code message} to systemd's NOTIFY_SOCKET, when the supervisor runs under systemd. */
  static void notify(Os os, String message) {
    var address = os.environment().get("NOTIFY_SOCKET");
    if (address != null && !address.isEmpty()) {
      try {
        os.sendNotify(address, message);
      } catch (NativeException e) {
        LOG.warn("could not notify systemd at {}: {}", address, e.getMessage());
      }
    }
  }
}
