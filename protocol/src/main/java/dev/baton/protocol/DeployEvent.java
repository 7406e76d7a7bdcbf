package dev.baton.protocol;

import java.time.Duration;
import java.util.Objects;

/**
 * One step of a deploy, as it happens. {@code generation} and {@code pid} are those of the
 * generation the step is about (the replaced one for {@code parked} and {@code drained}); {@code
 * elapsed} counts from the deploy's start.
 */
public record DeployEvent(DeployStep step, int generation, int pid, Duration elapsed, String detail)
    implements ServerMessage {
  public DeployEvent {
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(elapsed, "elapsed");
    // Often an exception's message, which may be null; a line of JSON says "" then.
    detail = Objects.requireNonNullElse(detail, "");
  }
}
