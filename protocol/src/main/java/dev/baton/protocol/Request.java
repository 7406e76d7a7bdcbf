package dev.baton.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** What a client asks of a supervisor: one request per connection. */
public sealed interface Request {

  /**
   * Start a new generation, promote it once ready, and drain or park the old one.
   *
   * @param argv the command for this generation only; empty for the config's {@code [app] command}
   * @param env merged over the config's environment, for this generation only
   * @param await also wait, before replying, until the replaced generation is drained or parked
   */
  record Deploy(Optional<List<String>> argv, Map<String, String> env, boolean await)
      implements Request {
    public Deploy {
      argv = argv.map(List::copyOf);
      env = Map.copyOf(env);
      if (argv.isPresent() && argv.get().isEmpty()) {
        throw new IllegalArgumentException(
            "a deploy's argv must name a program; leave it out for the config's command");
      }
    }
  }

  /**
   * Make the previous generation active again.
   *
   * @param reason why, for the history and the log; empty for the supervisor's default
   * @param await also wait until the generation rolled back from is drained
   */
  record Rollback(Optional<String> reason, boolean await) implements Request {
    public Rollback {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The supervisor's {@link Status}. */
  record GetStatus() implements Request {}

  /** Drain every generation, close the listeners, and exit. */
  record Stop() implements Request {}

  /** Re-execute the supervisor's program in place: same pid, same children, same listeners. */
  record Upgrade() implements Request {}

  /** Reopen the {@code [logs] file}, after logrotate moved it away. */
  record ReopenLogs() implements Request {}
}
