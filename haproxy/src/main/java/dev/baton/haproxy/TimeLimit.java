package dev.baton.haproxy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs a blocking call on a virtual thread and gives up on it after a timeout. The thread is then
 * interrupted, which closes the socket it is blocked on (an interruptible channel), so nothing is
 * left waiting on a supervisor that stopped answering.
 */
final class TimeLimit {
  private TimeLimit() {}

  static <T> T call(Duration timeout, Supplier<T> body, Supplier<RuntimeException> onTimeout) {
    var result = new CompletableFuture<T>();
    var thread =
        Thread.ofVirtual()
            .name("bounded-call")
            .start(
                () -> {
                  try {
                    result.complete(body.get());
                  } catch (Throwable t) {
                    result.completeExceptionally(t);
                  }
                });
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      thread.interrupt();
      throw onTimeout.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      thread.interrupt();
      Thread.currentThread().interrupt();
      throw onTimeout.get();
    }
  }
}
