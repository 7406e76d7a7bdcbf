package dev.baton.supervisor;

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
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The CLI's end of the control socket. Plain JDK Unix-domain channels: a client needs no FFM. */
public final class ControlClient {
  private final Path socket;

  public ControlClient(Path socket) {
    this.socket = socket;
  }

  public static ObjectNode request(String command) {
    var node = ControlServer.JSON.createObjectNode();
    node.put("command", command);
    return node;
  }

  /**
   * Sends one request and returns the final reply; each event line before it goes to {@code
   * events}. A reply with {@code "ok": false} is returned, not thrown.
   *
   * @throws ControlException when the supervisor cannot be reached
   */
  public JsonNode call(ObjectNode request, Consumer<JsonNode> events) {
    try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      var out = Channels.newOutputStream(channel);
      out.write((ControlServer.JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      for (var line = in.readLine(); line != null; line = in.readLine()) {
        var node = ControlServer.JSON.readTree(line);
        if (node.has("event")) {
          events.accept(node);
        } else {
          return node;
        }
      }
      throw new ControlException("the supervisor at " + socket + " closed the connection without a reply; check its log");
    } catch (IOException e) {
      throw new ControlException(explain(e));
    }
  }

  private String explain(IOException e) {
    if (!Files.exists(socket)) {
      return "no supervisor at " + socket + ": the control socket does not exist; start one with 'baton run -c CONFIG' or pass the right -c";
    }
    if (e instanceof AccessDeniedException || String.valueOf(e.getMessage()).contains("Permission denied")) {
      return "permission denied on " + socket + ": it is mode 0600; run as the supervisor's user or root";
    }
    if (String.valueOf(e.getMessage()).contains("Connection refused")) {
      return "no supervisor is listening on " + socket + " (stale socket file); start one with 'baton run -c CONFIG'";
    }
    return "cannot talk to the supervisor at " + socket + ": " + e.getMessage();
  }

  /** The supervisor could not be reached at all. */
  public static final class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ControlException(String message) {
      super(message);
    }
  }
}
