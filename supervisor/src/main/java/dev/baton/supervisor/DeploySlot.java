package dev.baton.supervisor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One deploy, rollback or crash restart at a time, from spawn to promotion. A deploy that finds the
 * slot taken is refused with what holds it; a rollback waits its turn (a bake that failed must roll
 * back even while an operator deploys), up to {@link #ROLLBACK_WAIT}. Drains run after the slot is
 * given back, so a fast rhythm never waits for a slow drain.
 */
final class DeploySlot {
  /** How long a rollback waits for a deploy in progress before it gives up. */
  static final Duration ROLLBACK_WAIT = Duration.ofMinutes(2);

  private final Loop loop;
  private final Runnable released;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  private boolean taken;
  private Optional<Generation> deploying = Optional.empty();

  /** An operation waiting its turn, and the future its caller holds. */
  private record Waiter(Runnable start, CompletableFuture<?> result) {}

  DeploySlot(Loop loop, Runnable released) {
    this.loop = loop;
    this.released = released;
  }

  boolean isTaken() {
    return taken;
  }

  /** The generation the operation holding the slot has spawned, while it is not yet promoted. */
  void deploying(Generation generation) {
    deploying = Optional.of(generation);
  }

  /** The generation it spawned has been promoted. */
  void promoted() {
    deploying = Optional.empty();
  }

  /** Runs {@code operation} now, or fails with why not. */
  <T> CompletableFuture<T> now(Supplier<CompletableFuture<T>> operation) {
    return taken
        ? CompletableFuture.failedFuture(new DeployException(busyMessage()))
        : hold(operation);
  }

  /** Runs {@code operation} once the slot is free, or fails after {@link #ROLLBACK_WAIT}. */
  <T> CompletableFuture<T> whenFree(Supplier<CompletableFuture<T>> operation) {
    if (!taken) {
      return hold(operation);
    }
    var result = new CompletableFuture<T>();
    var timeout =
        loop.after(
            ROLLBACK_WAIT, () -> result.completeExceptionally(new DeployException(busyMessage())));
    waiting.addLast(
        new Waiter(
            () -> {
              timeout.cancel();
              if (!result.isDone()) {
                hold(operation)
                    .whenComplete(
                        (value, error) -> {
                          if (error != null) {
                            result.completeExceptionally(error);
                          } else {
                            result.complete(value);
                          }
                        });
              }
            },
            result));
    return result;
  }

  /** Fails every operation still waiting: the supervisor is stopping. */
  void refuseWaiting(String why) {
    while (!waiting.isEmpty()) {
      waiting.removeFirst().result().completeExceptionally(new DeployException(why));
    }
  }

  String busyMessage() {
    return deploying
        .map(
            g ->
                "a deploy is already in progress (generation "
                    + g.number
                    + ", started "
                    + Duration.between(g.started, loop.now()).toMillis()
                    + " ms ago); wait for it to finish, then retry")
        .orElse("a deploy is already in progress; wait for it to finish, then retry");
  }

  private <T> CompletableFuture<T> hold(Supplier<CompletableFuture<T>> operation) {
    taken = true;
    CompletableFuture<T> running;
    try {
      running = operation.get();
    } catch (RuntimeException | StackOverflowError e) {
      // An Error here must still give the slot back, or every later deploy and restart is refused
      // as busy.
      running = CompletableFuture.failedFuture(e);
    }
    return running.whenComplete(
        (v, e) -> {
          taken = false;
          deploying = Optional.empty();
          // A waiter that gave up is skipped: the next one gets the slot.
          while (!waiting.isEmpty() && waiting.peekFirst().result().isDone()) {
            waiting.removeFirst();
          }
          if (!waiting.isEmpty()) {
            waiting.removeFirst().start().run();
          }
          released.run();
        });
  }
}
