package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.protocol.Codec;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervisor's end of the control socket: a Unix stream socket with mode 0600, and a check of
 * each caller's uid (SO_PEERCRED) against the supervisor's own and root's. It runs on the loop.
 *
 * <p>One request a connection, one JSON object a line (see {@link Codec}): the caller sends a
 * request; the supervisor answers with zero or more deploy events and one final reply.
 */
final class ControlServer {
  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

  /** A request is a command and a few fields: argv and env are the only long parts. */
  static final int MAX_REQUEST = 64 * 1024;

  /** Callers served at once; one more is told to try again. */
  static final int MAX_CONNECTIONS = 64;

  /**
   * Connections open at once, the refused ones that linger for their answer included; past this a
   * caller is closed unanswered, so a flood of connections holds a bounded number of descriptors.
   */
  static final int MAX_OPEN = 2 * MAX_CONNECTIONS;

  /** A caller that has not sent its request by then is cut off. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final Supervisor supervisor;
  private final Loop loop;
  private final Os os;
  private final Acceptor acceptor;
  private int connections;

  private ControlServer(
      Supervisor supervisor, Loop loop, Os os, dev.baton.os.UnixListener listener) {
    this.supervisor = supervisor;
    this.loop = loop;
    this.os = os;
    var open = new OpenConnections(loop, MAX_OPEN, MAX_REQUEST, "a control connection");
    this.acceptor =
        new Acceptor(loop, listener, connection -> open.admit(connection).ifPresent(this::serve));
  }

  static ControlServer open(Supervisor supervisor, Loop loop, Os os) {
    var path = supervisor.config().control().socket();
    try {
      var server = new ControlServer(supervisor, loop, os, os.listenUnix(path, 0600));
      server.acceptor.start();
      return server;
    } catch (NativeException e) {
      throw new StartException(
          "cannot create the control socket "
              + path
              + ": "
              + e.getMessage()
              + "; check that its directory exists and is writable, or set [control] socket");
    }
  }

  private void serve(LineChannel channel) {
    var peer = channel.peer();
    if (peer.uid() != os.uid() && peer.uid() != 0) {
      LOG.warn("refused a control connection from uid {} (pid {})", peer.uid(), peer.pid());
      finish(
          channel,
          new Reply.Failed(
              "uid "
                  + peer.uid()
                  + " may not control this supervisor, which runs as uid "
                  + os.uid()
                  + "; run baton as uid "
                  + os.uid()
                  + " or as root"));
      return;
    }
    if (connections >= MAX_CONNECTIONS) {
      finish(
          channel,
          new Reply.Failed(
              "the supervisor is serving " + connections + " control connections already; retry"));
      return;
    }
    connections++;
    var timeout = loop.after(REQUEST_TIMEOUT, channel::close);
    channel.start(
        line -> {
          timeout.cancel();
          channel.stopReading();
          try {
            handle(Codec.decodeRequest(line), channel);
          } catch (MalformedRequest e) {
            finish(channel, e.reply());
          }
        },
        () -> {
          timeout.cancel();
          connections--;
        });
  }

  private void handle(Request request, LineChannel channel) {
    switch (request) {
      case Request.GetStatus s -> finish(channel, new Reply.StatusReply(supervisor.status()));
      case Request.Deploy deploy ->
          answer(
              channel,
              deploy.await(),
              supervisor.deploy(deploy, event -> channel.send(Codec.encode(event))));
      case Request.Rollback rollback ->
          answer(
              channel,
              rollback.await(),
              supervisor.rollback(
                  rollback.reason().orElse("requested with baton rollback"),
                  event -> channel.send(Codec.encode(event))));
      case Request.Upgrade u -> {
        try {
          supervisor.upgrade(
              () -> {
                channel.send(Codec.encode(new Reply.Upgrading(os.pid())));
                channel.flushBlocking(Duration.ofSeconds(1));
              });
        } catch (DeployException e) {
          finish(channel, new Reply.Failed(String.valueOf(e.getMessage())));
        }
      }
      case Request.Stop s ->
          supervisor
              .stop()
              .thenRun(
                  () -> {
                    // The loop ends once the supervisor has stopped: say so before it does.
                    channel.send(Codec.encode(new Reply.Ok()));
                    channel.flushBlocking(Duration.ofSeconds(2));
                    channel.close();
                  });
      case Request.ReopenLogs r -> finish(channel, reopenLogs());
    }
  }

  private void answer(
      LineChannel channel, boolean await, CompletableFuture<Supervisor.Deployed> deployed) {
    deployed.whenComplete(
        (d, error) -> {
          if (error != null) {
            finish(channel, new Reply.Failed(DeployException.reason(error)));
          } else if (await && d.retired().isPresent()) {
            d.retired()
                .get()
                .whenComplete(
                    (event, e) -> {
                      if (event != null) {
                        channel.send(Codec.encode(event));
                      }
                      finish(channel, new Reply.Done(d.generation(), d.pid()));
                    });
          } else {
            finish(channel, new Reply.Done(d.generation(), d.pid()));
          }
        });
  }

  private Reply reopenLogs() {
    var config = supervisor.config();
    try {
      var file = LogFiles.forConfig(config);
      if (file.isEmpty()) {
        return new Reply.Failed(
            config.file()
                + " has no [logs] file: the generations' output goes to the"
                + " supervisor's own log, so there is nothing to reopen");
      }
      file.get().reopen();
      LOG.info("reopened {}", file.get().path());
      return new Reply.Reopened(file.get().path().toString());
    } catch (StartException | UncheckedIOException e) {
      return new Reply.Failed(String.valueOf(e.getMessage()));
    }
  }

  private static void finish(LineChannel channel, Reply reply) {
    channel.send(Codec.encode(reply));
    channel.closeWhenFlushed();
  }

  void close() {
    acceptor.close();
  }
}
