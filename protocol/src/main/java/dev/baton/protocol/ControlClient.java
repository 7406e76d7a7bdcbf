package dev.baton.protocol;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A client of a supervisor's control socket: one request per connection, then the events and the
 * reply it answers with. Plain JDK Unix-domain channels: a client needs no FFM.
 *
 * <p>No read deadline: a deploy waits as long as the new generation's readiness gate, minutes at
 * worst. A caller that needs one runs the call on a thread of its own.
 */
public final class ControlClient {
  private final Path socket;

  public ControlClient(Path socket) {
    this.socket = Objects.requireNonNull(socket, "socket");
  }

  /**
   * Sends one request and returns the final reply; each event before it goes to {@code events}, on
   * this thread, as it arrives. A {@link Reply.Failed} is returned, not thrown.
   *
   * @throws ControlException when the supervisor cannot be reached, hangs up without a reply, or
   *     answers with something that is not the control protocol
   */
  public Reply call(Request request, Consumer<DeployEvent> events) {
    try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      var out = Channels.newOutputStream(channel);
      out.write((Codec.encode(request) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      var in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      for (var line = in.readLine(); line != null; line = in.readLine()) {
        ServerMessage message;
        try {
          message = Codec.decodeMessage(line);
        } catch (IllegalArgumentException e) {
          throw new ControlException(
              "the supervisor at " + socket + " answered with " + e.getMessage());
        }
        switch (message) {
          case DeployEvent event -> events.accept(event);
          case Reply.Upgrading upgrading -> {
            return confirmed(upgrading, in.readLine());
          }
          case Reply reply -> {
            return reply;
          }
        }
      }
      throw new ControlException(
          "the supervisor at " + socket + " closed the connection without a reply; check its log");
    } catch (IOException e) {
      throw new ControlException(explain(e));
    }
  }

  /**
   * The supervisor says Upgrading just before its execve, which closes this connection. A line
   * after it means the execve failed and the supervisor runs on: that line is the real answer.
   */
  private static Reply confirmed(Reply.Upgrading upgrading, String next) {
    if (next == null) {
      return upgrading;
    }
    try {
      return Codec.decodeMessage(next) instanceof Reply reply ? reply : upgrading;
    } catch (IllegalArgumentException e) {
      return upgrading;
    }
  }

  private String explain(IOException e) {
    if (!Files.exists(socket)) {
      return "no supervisor at "
          + socket
          + ": the control socket does not exist; start one with 'baton run -c CONFIG' or pass the right -c";
    }
    if (e instanceof AccessDeniedException
        || String.valueOf(e.getMessage()).contains("Permission denied")) {
      return "permission denied on "
          + socket
          + ": it is mode 0600; run as the supervisor's user or root";
    }
    if (String.valueOf(e.getMessage()).contains("Connection refused")) {
      return "no supervisor is listening on "
          + socket
          + " (stale socket file); start one with 'baton run -c CONFIG'";
    }
    return "cannot talk to the supervisor at " + socket + ": " + e.getMessage();
  }

  @Override
  public String toString() {
    return "control socket " + socket;
  }

  /** The supervisor could not be reached, or did not answer in its protocol. */
  public static final class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ControlException(String message) {
      super(message);
    }
  }
}
