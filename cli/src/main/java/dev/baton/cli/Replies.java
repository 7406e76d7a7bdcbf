package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.protocol.Codec;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Sends a control request and prints its events and reply, for people or as the protocol's JSON
 * lines.
 */
final class Replies {
  private Replies() {}

  static int send(ConfigOption config, Request request, boolean json) {
    Path socket;
    try {
      socket = config.load().control().socket();
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    Reply reply;
    try {
      reply =
          new ControlClient(socket)
              .call(
                  request,
                  event -> System.out.println(json ? Codec.encode(event) : describe(event)));
    } catch (ControlClient.ControlException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.UNREACHABLE;
    }
    if (json) {
      System.out.println(Codec.encode(reply));
    } else if (reply instanceof Reply.Failed failed) {
      System.err.println("baton: " + failed.error());
    } else if (reply instanceof Reply.Done done) {
      System.out.println("generation " + done.generation() + " is active (pid " + done.pid() + ")");
    }
    return reply instanceof Reply.Failed ? Main.FAILED : 0;
  }

  /**
   * The reply {@code command} expects; or empty, once the supervisor's refusal (or odd answer) is
   * printed.
   */
  static <T extends Reply> Optional<T> expected(Reply reply, Class<T> type, String command) {
    if (type.isInstance(reply)) {
      return Optional.of(type.cast(reply));
    }
    System.err.println(
        "baton: "
            + (reply instanceof Reply.Failed failed
                ? failed.error()
                : "the supervisor answered "
                    + command
                    + " with "
                    + reply
                    + "; is it a baton of another version?"));
    return Optional.empty();
  }

  static String describe(DeployEvent event) {
    return String.format(
        Locale.ROOT,
        "%-9s generation %-4d pid %-8d %+9.1f ms  %s",
        event.step().name().toLowerCase(Locale.ROOT),
        event.generation(),
        event.pid(),
        event.elapsed().toNanos() / 1e6,
        event.detail());
  }
}
