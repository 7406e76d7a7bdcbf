package dev.baton.app;

import java.util.Optional;

/**
 * The words of BATON_CONTROL, the line protocol between a generation's baton-app and its
 * supervisor, defined here once for both ends. A message is one line of ASCII: a word alone, or a
 * word, one space and its argument ({@code HELLO 7}, {@code STATUS warming caches}).
 *
 * <p>The app says {@link #HELLO} first; the supervisor answers {@link #OK}, or {@link #ERROR} and
 * hangs up. Then the app says {@link #READY} and {@link #STATUS} as it likes, and answers the
 * supervisor's {@link #PAUSE} with {@link #PAUSED} and {@link #RESUME} with {@link #RESUMED}; a
 * draining generation may hear {@link #DRAIN_NOW}, which it does not answer. A line either end does
 * not know is ignored, so that an older app works with a newer supervisor.
 *
 * <p>On the wire a word is its name with {@code '-'} for {@code '_'}: {@link #DRAIN_NOW} is {@code
 * DRAIN-NOW}.
 */
public enum ControlWord {
  /** App: {@code HELLO <generation>}, its {@code BATON_GENERATION}, on every (re)connection. */
  HELLO(true),
  /** Supervisor: the HELLO was taken; this generation can now be paused. */
  OK(false),
  /**
   * Supervisor: {@code ERROR <why>}, the HELLO was refused (wrong process, wrong user); then it
   * hangs up.
   */
  ERROR(true),
  /** App: it can serve; passes a {@code [readiness] notify} gate. */
  READY(false),
  /** App: {@code STATUS <text>}, free text for {@code baton status}. */
  STATUS(true),
  /** Supervisor: stop accepting, and say {@link #PAUSED} once no acceptor can take a connection. */
  PAUSE(false),
  /** App: the answer to {@link #PAUSE}. */
  PAUSED(false),
  /** Supervisor: accept again, and say {@link #RESUMED} once accepting. */
  RESUME(false),
  /** App: the answer to {@link #RESUME}. */
  RESUMED(false),
  /**
   * Supervisor: finish in-flight work and exit. baton-app ignores it: the drain signal does this.
   */
  DRAIN(false),
  /**
   * Supervisor, to a generation already draining: {@code DRAIN-NOW}, end long-lived connections
   * (WebSocket, HTTP/2, streams) now. More generations are draining than {@code [drain]
   * max_draining} allows, this is one of the oldest, and its process group is SIGKILLed after
   * {@code [drain] hurry}. Not answered. An app that does not know it ignores it, and is killed all
   * the same. baton-app runs {@link Baton#onDrainNow}'s actions.
   */
  DRAIN_NOW(false);

  private final boolean takesArgument;

  /** The word as a line spells it. */
  private final String wire;

  ControlWord(boolean takesArgument) {
    this.takesArgument = takesArgument;
    this.wire = name().replace('_', '-');
  }

  /** Whether a line of this word carries an argument after it: HELLO, ERROR and STATUS do. */
  public boolean takesArgument() {
    return takesArgument;
  }

  /**
   * This word as a line, without its newline.
   *
   * @throws IllegalStateException for a word that takes an argument: use {@link #line(String)}
   */
  public String line() {
    if (takesArgument) {
      throw new IllegalStateException(wire + " takes an argument: use line(String)");
    }
    return wire;
  }

  /**
   * This word and its argument as a line, without its newline; line breaks in {@code argument}
   * become spaces, so that it stays one line.
   *
   * @throws IllegalStateException for a word that takes no argument: use {@link #line()}
   */
  public String line(String argument) {
    if (!takesArgument) {
      throw new IllegalStateException(wire + " takes no argument: use line()");
    }
    return wire + " " + argument.replace('\r', ' ').replace('\n', ' ');
  }

  /**
   * The message a line holds, without its newline: {@code "HELLO 7"} is HELLO with argument {@code
   * "7"}, {@code "PAUSE"} is PAUSE with none. Empty for a line this version does not know,
   * including a word that takes no argument followed by one.
   */
  public static Optional<Message> parse(String line) {
    int space = line.indexOf(' ');
    String name = space < 0 ? line : line.substring(0, space);
    for (ControlWord word : values()) {
      if (word.wire.equals(name)) {
        if (space < 0) {
          return Optional.of(new Message(word, ""));
        }
        return word.takesArgument
            ? Optional.of(new Message(word, line.substring(space + 1)))
            : Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** One line, parsed: its word and its argument ({@code ""} when it has none). */
  public record Message(ControlWord word, String argument) {}
}
