package dev.baton.protocol;

import java.util.Objects;

/** The supervisor's answer to a request: the last line of the exchange. */
public sealed interface Reply extends ServerMessage {

  /** A deploy or rollback succeeded: this generation is active. */
  record Done(int generation, int pid) implements Reply {}

  /** The request was refused or failed; {@code error} says why and what to do. */
  record Failed(String error) implements Reply {
    public Failed {
      // Often an exception's message, which may be null.
      error = Objects.requireNonNullElse(error, "the supervisor gave no reason");
    }
  }

  /** The answer to {@link Request.GetStatus}. */
  record StatusReply(Status status) implements Reply {
    public StatusReply {
      Objects.requireNonNull(status, "status");
    }
  }

  /** Done, with nothing more to say: a stop. */
  record Ok() implements Reply {}

  /**
   * The supervisor is re-executing itself; once it answers status again, {@code pid} is its pid.
   */
  record Upgrading(int pid) implements Reply {}

  /** The log file was reopened. */
  record Reopened(String file) implements Reply {
    public Reopened {
      Objects.requireNonNull(file, "file");
    }
  }
}
