package dev.baton.bench;

import dev.baton.os.ChildProcess;
import dev.baton.os.ExitStatus;
import dev.baton.os.Os;
import dev.baton.os.Signal;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One process bench started, in its own session: its pid is its process group, so ending the group
 * ends everything it forked too. Its stdout and stderr are read to the end, a line at a time, into
 * the scenario's log and to whoever watches for a line.
 */
final class Child {
  private final String name;
  private final ChildProcess process;
  private final Os os;
  private final CompletableFuture<Void> outputDone;

  Child(String name, ChildProcess process, Os os, Writer log, Consumer<String> lines) {
    this.name = name;
    this.process = process;
    this.os = os;
    Reaper.watch(os, process);
    var out = pump(process.stdout(), name + " | ", log, lines);
    var err = pump(process.stderr(), name + " ! ", log, lines);
    this.outputDone = CompletableFuture.allOf(out, err);
  }

  int pid() {
    return process.pid();
  }

  String name() {
    return name;
  }

  boolean alive() {
    return !process.exit().isDone();
  }

  CompletableFuture<ExitStatus> exit() {
    return process.exit();
  }

  /** Sends SIGTERM to the main process only, as a deploy's drain would. */
  void terminate() {
    process.signal(Signal.TERM);
  }

  /** Waits for the exit; empty when it did not come in time. */
  Optional<ExitStatus> awaitExit(Duration timeout) {
    try {
      return Optional.of(process.exit().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      return Optional.empty();
    } catch (ExecutionException e) {
      throw new IllegalStateException(name + " (pid " + pid() + "): " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Waits until every line it wrote has been read, so that captured output is whole. */
  void awaitOutput(Duration timeout) {
    try {
      outputDone.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Whatever was read is what there is.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Ends the whole process group: SIGTERM, then SIGKILL after {@code grace}. A group whose leader
   * has exited may still hold children (a shell's, a supervisor's generations), so the group is
   * signalled even then.
   */
  void end(Duration grace) {
    os.signalGroup(pid(), Signal.TERM);
    if (awaitExit(grace).isEmpty()) {
      os.signalGroup(pid(), Signal.KILL);
      awaitExit(Duration.ofSeconds(5));
    } else {
      // The leader drained in time; anything it left in its group is ended without mercy.
      os.signalGroup(pid(), Signal.KILL);
    }
  }

  private static CompletableFuture<Void> pump(
      InputStream in, String prefix, Writer log, Consumer<String> lines) {
    var done = new CompletableFuture<Void>();
    Thread.ofPlatform()
        .daemon()
        .name("output " + prefix.trim())
        .start(
            () -> {
              try (var reader =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (var line = reader.readLine(); line != null; line = reader.readLine()) {
                  synchronized (log) {
                    log.write(prefix + line + "\n");
                    log.flush();
                  }
                  lines.accept(line);
                }
              } catch (IOException e) {
                // The pipe broke: the process is gone; its exit status says how.
              } finally {
                done.complete(null);
              }
            });
    return done;
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }
}
