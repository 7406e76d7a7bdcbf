package dev.baton.supervisor;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The life of a generation, and the one table of the moves it may make. {@link Generation#moveTo}
 * refuses every other move, so a state change that the lifecycle does not draw is a bug that shows
 * at once instead of a generation stuck in a state nothing expects.
 *
 * <pre>
 *   starting ──► ready ──► active ──► parked ──► draining ──► exited
 *      │           │        │  ▲        │  │         ▲
 *      │           │        │  └────────┘  │         │
 *      │           │        └──────────────┼─────────┘
 *      ▼           ▼        ▼              ▼
 *    failed      failed   failed (crash) failed (exited while parked)
 * </pre>
 */
enum GenerationState {
  /**
   * Spawned; not yet ready. It may already accept on the shared listeners if the app does so early.
   */
  STARTING,
  /** Passed its readiness gate; about to be promoted. */
  READY,
  /** The generation that serves: the one a crash restarts and a deploy replaces. */
  ACTIVE,
  /** Alive and warm, not accepting: kept for an instant rollback. */
  PARKED,
  /** Sent the drain signal; finishing in-flight work before it exits. */
  DRAINING,
  /** Exited after a drain, as asked. */
  EXITED,
  /** Never became ready, or exited when it should have been serving. */
  FAILED;

  private Set<GenerationState> next() {
    return switch (this) {
      case STARTING -> EnumSet.of(READY, FAILED);
      case READY -> EnumSet.of(ACTIVE, FAILED);
      case ACTIVE -> EnumSet.of(PARKED, DRAINING, FAILED);
      case PARKED -> EnumSet.of(ACTIVE, DRAINING, FAILED);
      case DRAINING -> EnumSet.of(EXITED);
      case EXITED, FAILED -> EnumSet.noneOf(GenerationState.class);
    };
  }

  boolean mayMoveTo(GenerationState next) {
    return next().contains(next);
  }

  boolean isLive() {
    return this != EXITED && this != FAILED;
  }

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static GenerationState ofLabel(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
