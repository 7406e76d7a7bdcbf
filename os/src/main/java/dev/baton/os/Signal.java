package dev.baton.os;

import java.util.Arrays;
import java.util.Locale;

/** The Linux signals an operator may name in a config: numbers as on x86-64 and arm64. */
public enum Signal {
  HUP(1),
  INT(2),
  QUIT(3),
  KILL(9),
  USR1(10),
  USR2(12),
  TERM(15),
  CONT(18),
  STOP(19),
  WINCH(28);

  private final int number;

  Signal(int number) {
    this.number = number;
  }

  public int number() {
    return number;
  }

  /** Accepts "TERM", "SIGTERM" and "sigterm". */
  public static Signal parse(String text) {
    var name = text.toUpperCase(Locale.ROOT);
    if (name.startsWith("SIG")) {
      name = name.substring(3);
    }
    for (var s : values()) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown signal '" + text + "'; use one of " + Arrays.toString(values()));
  }

  /** "SIGTERM" for 15, "signal 34" for a number with no name here. */
  static String name(int number) {
    for (var s : values()) {
      if (s.number == number) {
        return "SIG" + s.name();
      }
    }
    return "signal " + number;
  }
}
