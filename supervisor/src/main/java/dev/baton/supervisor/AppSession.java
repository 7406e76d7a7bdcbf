package dev.baton.supervisor;

import dev.baton.app.ControlWord;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One generation's BATON_CONTROL connection: the app library's side of park and resume.
 *
 * <p>The protocol is a line of ASCII per message. The app says {@code HELLO <generation>} first,
 * then {@code READY} and {@code STATUS <text>} as it likes; the supervisor answers HELLO with
 * {@code OK} once the session is attached (or {@code ERROR <why>} and closes). The supervisor says
 * {@code PAUSE}, {@code RESUME} or {@code DRAIN}; the app answers {@code PAUSED} once no acceptor
 * of its can accept another connection, and {@code RESUMED} once it accepts again. To a draining
 * generation it may say {@code DRAIN-NOW} (it is hurried), which is not answered.
 */
final class AppSession {
  /** How long a generation may take to answer PAUSE or RESUME. */
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final Loop loop;
  private final Generation generation;
  private final LineChannel channel;

  /** The one request waiting for its answer: a session carries one at a time. */
  private Optional<Pending> pending = Optional.empty();

  private record Pending(
      ControlWord request, ControlWord answer, CompletableFuture<Void> reply, Loop.Timer timeout) {}

  AppSession(Loop loop, Generation generation, LineChannel channel) {
    this.loop = loop;
    this.generation = generation;
    this.channel = channel;
  }

  /** Reads the app's messages from now on. */
  void serve() {
    channel.start(this::heard, this::closed);
  }

  boolean isClosed() {
    return channel.isClosed();
  }

  /** PAUSE: completes once the app has stopped accepting on every public listener. */
  CompletableFuture<Void> pause() {
    return request(ControlWord.PAUSE, ControlWord.PAUSED);
  }

  /** RESUME: completes once the app accepts again. */
  CompletableFuture<Void> resume() {
    return request(ControlWord.RESUME, ControlWord.RESUMED);
  }

  /**
   * DRAIN-NOW: end long-lived connections now; not answered. False when the app closed its
   * connection, so that it must be told some other way.
   */
  boolean drainNow() {
    if (channel.isClosed()) {
      return false;
    }
    channel.send(ControlWord.DRAIN_NOW.line());
    return !channel.isClosed(); // closed by send when the app reads too slowly
  }

  private CompletableFuture<Void> request(ControlWord request, ControlWord answer) {
    pending.ifPresent(
        p -> fail(p, generation + " was sent " + request + " before it answered " + p.request()));
    var reply = new CompletableFuture<Void>();
    if (channel.isClosed()) {
      reply.completeExceptionally(
          new DeployException(
              generation + " could not be sent " + request + ": it closed its control connection"));
      return reply;
    }
    var timeout =
        loop.after(
            TIMEOUT,
            () ->
                pending.ifPresent(
                    p ->
                        fail(
                            p,
                            generation
                                + " did not answer "
                                + request
                                + " with "
                                + answer
                                + " within "
                                + TIMEOUT.toMillis()
                                + " ms")));
    pending = Optional.of(new Pending(request, answer, reply, timeout));
    channel.send(request.line());
    return reply;
  }

  private void heard(String line) {
    var message = ControlWord.parse(line);
    if (message.isEmpty()) {
      return; // a word from a newer baton-app: ignored, as the protocol says
    }
    var word = message.get().word();
    if (word == ControlWord.READY) {
      generation.notifiedReady.complete(null);
    } else if (word == ControlWord.STATUS) {
      generation.notifyStatus = message.get().argument();
    } else if (pending.isPresent() && word == pending.get().answer()) {
      var p = pending.get();
      pending = Optional.empty();
      p.timeout().cancel();
      p.reply().complete(null);
    }
  }

  private void closed() {
    pending.ifPresent(
        p ->
            fail(
                p,
                generation
                    + " could not be sent "
                    + p.request()
                    + ": it closed its control connection"));
  }

  private void fail(Pending p, String why) {
    pending = Optional.empty();
    p.timeout().cancel();
    p.reply().completeExceptionally(new DeployException(why));
  }

  void close() {
    channel.close();
  }
}
