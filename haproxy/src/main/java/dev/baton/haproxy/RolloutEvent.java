package dev.baton.haproxy;

import java.time.Duration;

/**
 * One step of a rollout, as it happens.
 *
 * <p>Steps of the fleet ({@code server} is empty): {@code plan}, {@code abort}, {@code restore},
 * {@code done}. Steps of one server: {@code weight}, {@code drain}, {@code drained}, {@code
 * supervisor} (a step of its supervisor's deploy), {@code deployed}, {@code check}, {@code
 * healthy}, {@code ready}, {@code bake}, {@code baked}, {@code rollback}, {@code rolled-back},
 * {@code failed}.
 *
 * @param elapsed since the rollout started
 */
public record RolloutEvent(Duration elapsed, String server, String step, String detail) {}
