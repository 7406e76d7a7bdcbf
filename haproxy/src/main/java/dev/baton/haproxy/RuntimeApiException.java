package dev.baton.haproxy;

/**
 * HAProxy's Runtime API could not be reached, did not answer in time, or refused a command. The
 * message says which, on which address, and what to check.
 */
public final class RuntimeApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RuntimeApiException(String message) {
    super(message);
  }

  RuntimeApiException(String message, Throwable cause) {
    super(message, cause);
  }
}
