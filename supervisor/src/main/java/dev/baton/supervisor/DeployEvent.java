package dev.baton.supervisor;

import java.time.Duration;

/**
 * One step of a deploy, as it happens: {@code spawned}, {@code ready}, {@code promoted}, {@code
 * drained}, or {@code failed}. {@code elapsed} counts from the deploy's start.
 */
public record DeployEvent(String step, int generation, int pid, Duration elapsed, String detail) {}
