package dev.baton.os;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/** What baton learns about processes and descriptors from /proc, for {@link LinuxOs}. */
final class Proc {
  private Proc() {}

  /**
   * Reads the kernel's TCP tables for a LISTEN socket on {@code port}, then looks for the process
   * holding that socket's inode among /proc/PID/fd. Processes we may not inspect are skipped.
   */
  static Optional<String> portOwner(int port) {
    var sockets = listeningSocketInodes(port);
    if (sockets.isEmpty()) {
      return Optional.empty();
    }
    // Lowest pid first: a socket shared with children is usually the parent's.
    for (int pid : pids()) {
      try (DirectoryStream<Path> fds =
          Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "fd"))) {
        for (var fd : fds) {
          if (sockets.contains(linkTarget(fd))) {
            var comm = Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
            return Optional.of("pid " + pid + " (" + comm + ")");
          }
        }
      } catch (IOException | java.nio.file.DirectoryIteratorException e) {
        // Gone, or not ours to look at: best effort.
      }
    }
    return Optional.empty();
  }

  /**
   * An fd's link, or "" when it was closed while we looked: a busy process opens and closes many.
   */
  static String linkTarget(Path fd) {
    try {
      return Files.readSymbolicLink(fd).toString();
    } catch (IOException e) {
      return "";
    }
  }

  /** "socket:[inode]" for each LISTEN socket on the port, as /proc/PID/fd links name them. */
  private static Set<String> listeningSocketInodes(int port) {
    var sockets = new HashSet<String>();
    for (var table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines;
      try {
        lines = Files.readAllLines(Path.of(table));
      } catch (IOException e) {
        continue; // no IPv6 in this kernel
      }
      // "sl local_address rem_address st ... uid timeout inode": the port is hex, LISTEN is 0A.
      for (var line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        var fields = line.strip().split("\\s+");
        if (fields.length < 10) {
          continue;
        }
        var local = fields[1];
        var localPort = local.substring(local.lastIndexOf(':') + 1);
        if (localPort.equals(String.format("%04X", port))
            && fields[3].equals("0A")
            && !fields[9].equals("0")) {
          sockets.add("socket:[" + fields[9] + "]");
        }
      }
    }
    return sockets;
  }

  /**
   * Established TCP connections held by {@code pgid} and its process group's members; see {@link
   * Os#tcpConnections}. Every /proc/PID/stat is read for its group: a few hundred small reads, off
   * the supervisor's loop.
   */
  static OptionalInt tcpConnections(int pgid) {
    var inodes = new HashSet<String>();
    if (!addSocketInodes(pgid, inodes)) {
      return OptionalInt.empty();
    }
    for (int pid : pids()) {
      if (pid != pgid && processGroup(pid) == pgid) {
        addSocketInodes(pid, inodes);
      }
    }
    int established = 0;
    boolean read = false;
    for (var table : List.of("tcp", "tcp6")) {
      // "sl local_address rem_address st ... uid timeout inode": ESTABLISHED is 01.
      try (var lines = Files.lines(Path.of("/proc", Integer.toString(pgid), "net", table))) {
        established +=
            (int)
                lines
                    .skip(1)
                    .map(line -> line.strip().split("\\s+"))
                    .filter(f -> f.length >= 10 && f[3].equals("01") && inodes.contains(f[9]))
                    .count();
        read = true;
      } catch (IOException | java.io.UncheckedIOException e) {
        // No IPv6 in this kernel, or the process is gone.
      }
    }
    return read ? OptionalInt.of(established) : OptionalInt.empty();
  }

  /** Adds the inodes of {@code pid}'s sockets; false when its descriptors cannot be listed. */
  private static boolean addSocketInodes(int pid, Set<String> inodes) {
    try (DirectoryStream<Path> fds =
        Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "fd"))) {
      for (var fd : fds) {
        var link = linkTarget(fd);
        if (link.startsWith("socket:[") && link.endsWith("]")) {
          inodes.add(link.substring("socket:[".length(), link.length() - 1));
        }
      }
      return true;
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      return false;
    }
  }

  /** /proc/PID/stat's pgrp (field 5 of stat(5)), or -1 when it cannot be read. */
  private static int processGroup(int pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ", 4)[2]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static List<Integer> pids() {
    var pids = new ArrayList<Integer>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (var entry : entries) {
        pids.add(Integer.parseInt(entry.getFileName().toString()));
      }
    } catch (IOException | NumberFormatException e) {
      // best effort
    }
    pids.sort(Comparator.naturalOrder());
    return pids;
  }

  static Optional<Fd> takeFd(int pid, String link, boolean forReading) {
    var fds = Path.of("/proc", Integer.toString(pid), "fd");
    var numbers = new ArrayList<Integer>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
      for (var entry : entries) {
        if (linkTarget(entry).equals(link)) {
          numbers.add(Integer.parseInt(entry.getFileName().toString()));
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      return Optional.empty();
    }
    numbers.sort(Comparator.naturalOrder());
    for (int fd : numbers) {
      if (forReading && !openForReading(pid, fd)) {
        continue;
      }
      int pidfd = Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");
      try {
        return Optional.of(
            new Fd(Libc.pidfdGetfd(pidfd, fd, "pidfd_getfd(pid " + pid + ", fd=" + fd + ")")));
      } finally {
        Libc.close(pidfd);
      }
    }
    return Optional.empty();
  }

  /** /proc/PID/fdinfo/FD "flags:" is octal; O_ACCMODE 0 is O_RDONLY. */
  private static boolean openForReading(int pid, int fd) {
    try {
      for (var line :
          Files.readAllLines(
              Path.of("/proc", Integer.toString(pid), "fdinfo", Integer.toString(fd)))) {
        if (line.startsWith("flags:")) {
          return (Integer.parseInt(line.substring(6).trim(), 8) & 3) == 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Gone: not a candidate.
    }
    return false;
  }

  static String link(Fd fd) {
    return linkTarget(Path.of("/proc/self/fd", Integer.toString(fd.value())));
  }

  /**
   * /proc/PID/stat's ppid, pgrp, session and starttime (fields 4, 5, 6 and 22 of stat(5)) and
   * /proc/PID/status's real uid; empty when the process is gone or cannot be read.
   */
  static Optional<ProcessStat> stat(int pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      int uid = -1;
      for (var line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("Uid:")) {
          uid = Integer.parseInt(line.substring(4).strip().split("\\s+")[0]);
        }
      }
      return Optional.of(
          new ProcessStat(
              pid,
              Integer.parseInt(fields[1]),
              Integer.parseInt(fields[2]),
              Integer.parseInt(fields[3]),
              uid,
              Long.parseLong(fields[19])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** This boot's random id: a pid and a start time mean nothing across a reboot. */
  static String bootId() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read /proc/sys/kernel/random/boot_id", e);
    }
  }

  /** The uid that owns {@code path} itself (a symlink's own owner, not its target's). */
  static int owner(Path path) throws IOException {
    return (Integer) Files.getAttribute(path, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
  }

  static OptionalLong startTime(int pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      // Fields after the parenthesised command name; starttime is field 22 of stat(5).
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return OptionalLong.of(Long.parseLong(fields[19]));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }
}
