package dev.baton.haproxy;

import dev.baton.protocol.Reply;

/**
 * A supervisor could not be reached, did not answer in time, or refused what a rollout asked. The
 * message names the target and says what to check.
 */
public final class HostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean unreachable;

  HostException(String message, boolean unreachable) {
    super(message);
    this.unreachable = unreachable;
  }

  /**
   * The reply a call expects, or why there is none: the supervisor's refusal, or an answer that
   * does not fit what was asked.
   */
  static <T extends Reply> T expect(Reply reply, Class<T> type, String target, String command) {
    if (reply instanceof Reply.Failed failed) {
      throw new HostException(
          "the supervisor at " + target + " refused '" + command + "': " + failed.error(), false);
    }
    if (!type.isInstance(reply)) {
      throw new HostException(
          "the supervisor at "
              + target
              + " answered '"
              + command
              + "' with "
              + reply
              + "; is it a baton of another version?",
          true);
    }
    return type.cast(reply);
  }

  /** True when the supervisor never answered; false when it answered "no". */
  public boolean unreachable() {
    return unreachable;
  }
}
