package dev.baton.supervisor;

import dev.baton.os.UnixConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One generation's BATON_CONTROL connection: the app library's side of park and resume.
 *
 * <p>The protocol is a line of ASCII per message. The app says {@code HELLO <generation>} first,
 * then {@code READY} and {@code STATUS <text>} as it likes; the supervisor answers HELLO with {@code OK}
 * once the session is attached (or {@code ERROR <why>} and closes). The supervisor says {@code PAUSE},
 * {@code RESUME} or {@code DRAIN}; the app answers {@code PAUSED} once no acceptor of its can
 * accept another connection, and {@code RESUMED} once it accepts again.
 */
final class AppSession implements AutoCloseable {
  private final Generation generation;
  private final UnixConnection connection;
  private final BufferedReader reader;

  /** The answer the supervisor waits for; one request at a time, guarded by this. */
  private CompletableFuture<Void> pending = CompletableFuture.completedFuture(null);

  private String expected = "";

  AppSession(Generation generation, UnixConnection connection, BufferedReader reader) {
    this.generation = generation;
    this.connection = connection;
    this.reader = reader;
  }

  static BufferedReader reader(UnixConnection connection) {
    return new BufferedReader(new InputStreamReader(connection.input(), StandardCharsets.US_ASCII));
  }

  /** Reads the app's messages until it disconnects; runs on its own platform thread. */
  void serve() {
    try {
      for (var line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.equals("READY")) {
          generation.notifiedReady.complete(null);
        } else if (line.startsWith("STATUS ")) {
          generation.notifyStatus = line.substring("STATUS ".length());
        } else {
          answered(line);
        }
      }
    } catch (IOException e) {
      // The generation exited or closed the connection; pending requests fail below.
    } finally {
      synchronized (this) {
        pending.completeExceptionally(new IOException(generation + " closed its control connection"));
      }
      connection.close();
    }
  }

  private synchronized void answered(String line) {
    if (line.equals(expected)) {
      pending.complete(null);
    }
  }

  /** PAUSE: returns once the app has stopped accepting on every public listener. */
  void pause(Duration timeout) {
    request("PAUSE", "PAUSED", timeout);
  }

  /** RESUME: returns once the app accepts again. */
  void resume(Duration timeout) {
    request("RESUME", "RESUMED", timeout);
  }

  private void request(String message, String answer, Duration timeout) {
    CompletableFuture<Void> reply;
    synchronized (this) {
      pending = new CompletableFuture<>();
      expected = answer;
      reply = pending;
    }
    try {
      synchronized (connection) {
        connection.output().write((message + "\n").getBytes(StandardCharsets.US_ASCII));
        connection.output().flush();
      }
      reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new DeployException(generation + " did not answer " + message + " with " + answer + " within "
          + timeout.toMillis() + " ms");
    } catch (IOException | java.util.concurrent.ExecutionException e) {
      throw new DeployException(generation + " could not be sent " + message + ": it closed its control connection");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeployException("interrupted while waiting for " + generation + " to answer " + message);
    }
  }

  @Override
  public void close() {
    connection.close();
  }
}
