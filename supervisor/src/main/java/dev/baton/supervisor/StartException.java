package dev.baton.supervisor;

/** The supervisor cannot start: a listener cannot bind, a socket cannot be created. */
public final class StartException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  StartException(String message) {
    super(message);
  }
}
