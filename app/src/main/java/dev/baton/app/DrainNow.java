package dev.baton.app;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the app asked to run when the supervisor hurries its drain (DRAIN-NOW): each action once, in
 * the order added, and at once for one added after the word came. The supervisor says it once; a
 * repeat runs nothing.
 */
final class DrainNow {
  private final Consumer<String> say;

  /** Guarded by this. */
  private final List<Runnable> actions = new ArrayList<>();

  private boolean heard;

  DrainNow(Consumer<String> say) {
    this.say = say;
  }

  void add(Runnable action) {
    boolean late;
    synchronized (this) {
      actions.add(action);
      late = heard;
    }
    if (late) {
      run(action);
    }
  }

  /** The supervisor said DRAIN-NOW: runs every action added so far, on the caller's thread. */
  void heard() {
    List<Runnable> now;
    synchronized (this) {
      if (heard) {
        return;
      }
      heard = true;
      now = new ArrayList<>(actions);
    }
    say.accept("the supervisor says DRAIN-NOW: this generation is hurried and will be killed soon");
    now.forEach(this::run);
  }

  /** One that throws is reported, and the others still run. */
  private void run(Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      say.accept("an onDrainNow action failed: " + e);
    }
  }
}
