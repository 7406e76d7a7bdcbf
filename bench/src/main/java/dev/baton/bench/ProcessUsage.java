package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a process has used so far, from /proc: CPU time (user + system) and peak resident memory
 * (VmHWM). Read before and after a phase, the difference is what that phase cost it.
 *
 * @param cpuSeconds user plus system time since it started
 * @param peakRssBytes the high-water mark of its resident set
 */
record ProcessUsage(double cpuSeconds, long peakRssBytes) {
  /** Linux reports times in USER_HZ, which is 100 on every architecture it supports. */
  private static final double TICKS_PER_SECOND = 100;

  /** Empty when the process is gone or /proc cannot be read. */
  static Optional<ProcessUsage> of(int pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      // The command name, in parentheses, may hold spaces: fields are counted after its ')'.
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      long hwm = 0;
      for (var line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          hwm = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
      return Optional.of(new ProcessUsage(ticks / TICKS_PER_SECOND, hwm));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
