package dev.baton.protocol;

/** A request line that cannot be acted on; {@link #reply()} is what its sender is told. */
public final class MalformedRequest extends Exception {
  private static final long serialVersionUID = 1L;

  private final String message;

  MalformedRequest(String problem) {
    super("malformed control message: " + problem);
    this.message = "malformed control message: " + problem;
  }

  /** The reply to send back: {@code {"ok":false,"error":"malformed control message: …"}}. */
  public Reply.Failed reply() {
    return new Reply.Failed(message);
  }
}
