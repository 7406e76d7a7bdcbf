package dev.baton.supervisor;

import dev.baton.app.ControlWord;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket behind BATON_CONTROL: where generations that use baton-app connect to report readiness
 * and to be paused and resumed. Like the operator's control socket it is mode 0600 and checks the
 * caller's uid; it also checks that the caller is a live generation's main process.
 */
final class AppControl {
  private static final Logger LOG = LoggerFactory.getLogger(AppControl.class);

  /** BATON_CONTROL lines are words and a short status text; nothing longer is ever needed. */
  static final int MAX_LINE = 4096;

  /**
   * Connections open at once, refused ones that linger included; one more is closed unanswered.
   * Each holds a descriptor and up to {@link #MAX_LINE} bytes: a generation that connects in a loop
   * must not run the supervisor out of either.
   */
  static final int MAX_CONNECTIONS = 64;

  /** A connection that has not said HELLO by then is closed. */
  private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(5);

  private final Loop loop;
  private final Os os;
  private final Path path;
  private final Acceptor acceptor;
  private final IntFunction<Optional<Generation>> generationByPid;

  private AppControl(
      Loop loop,
      Os os,
      Path path,
      dev.baton.os.UnixListener listener,
      IntFunction<Optional<Generation>> generationByPid) {
    this.loop = loop;
    this.os = os;
    this.path = path;
    this.generationByPid = generationByPid;
    var connections =
        new OpenConnections(loop, MAX_CONNECTIONS, MAX_LINE, "a BATON_CONTROL connection");
    this.acceptor =
        new Acceptor(
            loop, listener, connection -> connections.admit(connection).ifPresent(this::greet));
  }

  static AppControl open(
      Loop loop, Os os, Path path, IntFunction<Optional<Generation>> generationByPid) {
    try {
      var control = new AppControl(loop, os, path, os.listenUnix(path, 0600), generationByPid);
      control.acceptor.start();
      return control;
    } catch (NativeException e) {
      throw new StartException(
          "cannot create the app control socket " + path + ": " + e.getMessage());
    }
  }

  Path path() {
    return path;
  }

  private void greet(LineChannel channel) {
    var peer = channel.peer();
    if (peer.uid() != os.uid() && peer.uid() != 0) {
      refuse(channel, "uid " + peer.uid() + " is not the supervisor's (" + os.uid() + ")");
      return;
    }
    var generation = generationByPid.apply(peer.pid());
    if (generation.isEmpty()) {
      refuse(channel, "pid " + peer.pid() + " is no live generation's main process");
      return;
    }
    var expected = ControlWord.HELLO.line(Integer.toString(generation.get().number));
    var timeout =
        loop.after(
            HELLO_TIMEOUT,
            () -> {
              if (!channel.isClosed()) {
                refuse(
                    channel,
                    generation.get() + " said no HELLO within " + HELLO_TIMEOUT.toMillis() + " ms");
              }
            });
    channel.start(
        hello -> {
          timeout.cancel();
          if (!hello.equals(expected)) {
            refuse(channel, "expected '" + expected + "' first, got '" + abbreviate(hello) + "'");
            return;
          }
          var session = new AppSession(loop, generation.get(), channel);
          // baton-app says HELLO again only after it lost its connection, so the old session is
          // dead
          // or a misbehaving app's spare: either way it must not keep its descriptor.
          generation.get().session().ifPresent(AppSession::close);
          generation.get().attach(session);
          // Said once attached: the app waits for it before it accepts, so that a probe can never
          // find
          // it ready while the supervisor does not yet know it must be resumed at promotion.
          channel.send(ControlWord.OK.line());
          session.serve();
          LOG.info("{} connected to BATON_CONTROL: it can be paused and parked", generation.get());
        },
        timeout::cancel);
  }

  private static void refuse(LineChannel channel, String why) {
    LOG.warn("refused a BATON_CONTROL connection: {}", why);
    channel.send(ControlWord.ERROR.line(why));
    channel.closeWhenFlushed();
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  void close() {
    acceptor.close();
  }
}
