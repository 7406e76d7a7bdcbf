package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a steady run places each server it starts. With kernel.sched_autogroup_enabled=1 every
 * session is one CPU share, so a server in a session of its own competes with the load generator as
 * an equal, while one in bench's session shares bench's share with it. Either is fair so long as
 * every server is placed alike.
 */
public enum Placement {
  /**
   * A process group of its own in bench's session: as baton run places a generation in the
   * supervisor's session.
   */
  GROUP("group"),
  /** A session of its own (setsid): an autogroup, so a CPU share, of its own. */
  SESSION("session");

  private final String label;

  Placement(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }

  /**
   * @throws IllegalArgumentException naming the unknown placement and the known ones
   */
  public static Placement parse(String name) {
    var wanted = name.trim().toLowerCase(Locale.ROOT);
    for (var p : values()) {
      if (p.label.equals(wanted)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown placement '"
            + name.trim()
            + "'; use group (a process group of its"
            + " own in bench's session) or session (a session of its own)");
  }

  @Override
  public String toString() {
    return label;
  }

  /**
   * Where one process sits, from /proc.
   *
   * @param autogroup as /proc/PID/autogroup names it ("/autogroup-12 nice 0"), or "" when the
   *     kernel has none
   * @param cgroup the cgroup whose cpu controller holds it
   */
  record Where(int pid, int pgid, int sid, String autogroup, String cgroup) {
    /** Empty when the process is gone or /proc cannot be read. */
    static Optional<Where> of(long pid) {
      var dir = Path.of("/proc", Long.toString(pid));
      try {
        var stat = Files.readString(dir.resolve("stat"));
        // The command name, in parentheses, may hold spaces: fields are counted after its ')'.
        var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Optional.of(
            new Where(
                (int) pid,
                Integer.parseInt(fields[2]),
                Integer.parseInt(fields[3]),
                readOr(dir.resolve("autogroup"), "").replaceAll("\\s+", " ").trim(),
                cgroup(dir)));
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }

    static Where self() {
      return of(ProcessHandle.current().pid())
          .orElseThrow(
              () ->
                  new IllegalStateException(
                      "cannot read /proc/self/stat; the steady mode needs Linux's /proc"));
    }

    /** The autogroup's name alone ("/autogroup-12"), which is what tells two shares apart. */
    String autogroupName() {
      int space = autogroup.indexOf(' ');
      return space < 0 ? autogroup : autogroup.substring(0, space);
    }

    /**
     * The cpu controller's cgroup: v1's when the cpu controller is mounted there (hybrid hosts),
     * else v2's.
     */
    private static String cgroup(Path dir) throws IOException {
      String unified = "";
      for (var line : Files.readAllLines(dir.resolve("cgroup"))) {
        var parts = line.split(":", 3);
        if (parts.length < 3) {
          continue;
        }
        if (java.util.Arrays.asList(parts[1].split(",")).contains("cpu")) {
          return parts[2];
        }
        if (parts[0].equals("0") && parts[1].isEmpty()) {
          unified = parts[2];
        }
      }
      return unified;
    }
  }

  /**
   * Whether the kernel gives each session a CPU share of its own: kernel.sched_autogroup_enabled.
   */
  static Optional<Boolean> autogroupEnabled() {
    var text = readOr(Path.of("/proc/sys/kernel/sched_autogroup_enabled"), "").trim();
    return text.isEmpty() ? Optional.empty() : Optional.of(text.equals("1"));
  }

  static String readOr(Path file, String otherwise) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return otherwise;
    }
  }
}
