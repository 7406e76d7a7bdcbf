package dev.baton.app;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The systemd socket-activation variables, read the way {@code sd_listen_fds_with_names(3)} reads
 * them: {@code LISTEN_FDS=n} listeners at fds 3..3+n-1, named by {@code LISTEN_FDNAMES}, and only
 * if {@code LISTEN_PID} is this process. The pid check matters because the variables are inherited
 * by every child: a child of the app must not take the app's fds for its own.
 *
 * @param names one name per fd, starting at fd 3; empty when nothing was handed to this process
 * @param absence why nothing was handed to this process, for the fallback message; empty otherwise
 */
record ListenFds(List<String> names, String absence) {

  /** The first fd of the systemd protocol: 0, 1 and 2 are stdin, stdout and stderr. */
  static final int FIRST_FD = 3;

  /** The name systemd gives a listener when {@code LISTEN_FDNAMES} does not name it. */
  static final String UNKNOWN = "unknown";

  ListenFds {
    names = List.copyOf(names);
  }

  static ListenFds from(Map<String, String> env, long pid) {
    String fds = env.get("LISTEN_FDS");
    if (fds == null) {
      return none("no LISTEN_FDS");
    }
    String listenPid = env.get("LISTEN_PID");
    if (listenPid == null) {
      return none("LISTEN_FDS is set but LISTEN_PID is not, so it is not for this process");
    }
    long forPid = parse("LISTEN_PID", listenPid);
    if (forPid != pid) {
      return none("LISTEN_FDS is for pid " + forPid + ", not this process (pid " + pid + ")");
    }
    long count = parse("LISTEN_FDS", fds);
    if (count > Integer.MAX_VALUE - FIRST_FD) {
      throw new IllegalStateException("baton-app: LISTEN_FDS=" + fds + " is not a count of fds");
    }
    if (count == 0) {
      return none("LISTEN_FDS=0");
    }
    return new ListenFds(names(env.get("LISTEN_FDNAMES"), (int) count), "");
  }

  int count() {
    return names.size();
  }

  private static ListenFds none(String absence) {
    return new ListenFds(List.of(), absence);
  }

  private static long parse(String variable, String value) {
    try {
      long parsed = Long.parseLong(value.trim());
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below, with the variable's name
    }
    throw new IllegalStateException(
        "baton-app: " + variable + "=" + value + " is not a non-negative number");
  }

  private static List<String> names(@Nullable String fdNames, int count) {
    if (fdNames == null) {
      return Collections.nCopies(count, UNKNOWN);
    }
    // Like systemd: split on every colon, keeping empty fields, and insist on one name per fd,
    // because a name that lands on the wrong fd routes traffic to the wrong listener.
    String[] split = fdNames.split(":", -1);
    if (split.length != count) {
      throw new IllegalStateException(
          "baton-app: LISTEN_FDNAMES="
              + fdNames
              + " names "
              + split.length
              + " listeners but LISTEN_FDS="
              + count
              + "; give one name per fd, separated by ':'");
    }
    List<String> names = new ArrayList<>(count);
    for (String name : split) {
      names.add(name.isEmpty() ? UNKNOWN : name);
    }
    return names;
  }
}
