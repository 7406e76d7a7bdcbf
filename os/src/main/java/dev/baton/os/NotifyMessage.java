package dev.baton.os;

import java.util.LinkedHashMap;
import java.util.Map;

/** One sd_notify datagram, with the sender's credentials from SCM_CREDENTIALS. */
public record NotifyMessage(int pid, int uid, String text) {

  /**
   * "READY=1\nSTATUS=up" as {READY=1, STATUS=up}; lines without '=' are ignored, as systemd does.
   */
  public Map<String, String> fields() {
    var fields = new LinkedHashMap<String, String>();
    for (var line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        fields.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return fields;
  }
}
