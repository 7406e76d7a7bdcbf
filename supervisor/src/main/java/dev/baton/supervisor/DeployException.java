package dev.baton.supervisor;

/** A deploy that did not promote its generation. The active generation is untouched. */
public final class DeployException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DeployException(String message) {
    super(message);
  }
}
