package dev.baton.supervisor;

/** A deploy that did not promote its generation. The active generation is untouched. */
final class DeployException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DeployException(String message) {
    super(message);
  }

  /** What went wrong, without the CompletionException wrappers of a future. */
  static String reason(Throwable error) {
    while (error instanceof java.util.concurrent.CompletionException && error.getCause() != null) {
      error = error.getCause();
    }
    return error.getMessage() == null ? error.toString() : error.getMessage();
  }
}
