package dev.baton.haproxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Runtime API over a stream socket. HAProxy's non-interactive mode answers one command and
 * closes the connection, so a reply is everything up to EOF. The socket is non-blocking under a
 * selector: a stuck HAProxy, or something else on that address, costs one timeout, never a hang.
 */
final class SocketRuntimeApi implements RuntimeApi {
  private static final int MAX_REPLY = 16 << 20;

  private final RuntimeApiAddress address;
  private final Duration timeout;

  SocketRuntimeApi(RuntimeApiAddress address, Duration timeout) {
    this.address = address;
    this.timeout = timeout;
  }

  @Override
  public List<ServerState> servers(String backend) {
    var reply = command("show servers state " + backend);
    var lines = reply.lines().filter(l -> !l.isBlank()).toList();
    if (lines.size() < 2 || !lines.get(1).startsWith("# ")) {
      throw refused(
          "show servers state " + backend,
          reply.strip().isEmpty() ? "an empty reply" : reply.strip());
    }
    var columns = Arrays.asList(lines.get(1).substring(2).trim().split("\\s+"));
    var servers = new ArrayList<ServerState>();
    for (var line : lines.subList(2, lines.size())) {
      var fields = line.trim().split("\\s+");
      var row = new Row(columns, Arrays.asList(fields));
      servers.add(
          new ServerState(
              row.text("be_name"),
              row.text("srv_name"),
              row.text("srv_addr") + ":" + row.text("srv_port"),
              (int) row.number("srv_op_state"),
              (int) row.number("srv_admin_state"),
              (int) row.number("srv_uweight"),
              (int) row.number("srv_iweight")));
    }
    return servers;
  }

  @Override
  public List<ServerStats> stats(String backend) {
    var reply = command("show stat");
    var lines = reply.lines().filter(l -> !l.isBlank()).toList();
    if (lines.isEmpty() || !lines.getFirst().startsWith("# ")) {
      throw refused("show stat", reply.strip().isEmpty() ? "an empty reply" : reply.strip());
    }
    var columns = Arrays.asList(lines.getFirst().substring(2).split(",", -1));
    var stats = new ArrayList<ServerStats>();
    for (var line : lines.subList(1, lines.size())) {
      var row = new Row(columns, Arrays.asList(line.split(",", -1)));
      var name = row.text("svname");
      if (!row.text("pxname").equals(backend)
          || name.equals("BACKEND")
          || name.equals("FRONTEND")) {
        continue;
      }
      long responses =
          row.number("hrsp_1xx")
              + row.number("hrsp_2xx")
              + row.number("hrsp_3xx")
              + row.number("hrsp_4xx")
              + row.number("hrsp_5xx")
              + row.number("hrsp_other");
      stats.add(
          new ServerStats(
              name,
              row.number("scur"),
              row.number("qcur"),
              row.text("status"),
              row.text("check_status").replace("* ", ""),
              responses,
              row.number("hrsp_5xx"),
              row.number("econ"),
              row.number("eresp")));
    }
    return stats;
  }

  @Override
  public void setState(String backend, String server, AdminState state) {
    set(
        "set server "
            + backend
            + "/"
            + server
            + " state "
            + state.name().toLowerCase(java.util.Locale.ROOT));
  }

  @Override
  public void forceHealthDown(String backend, String server) {
    set("set server " + backend + "/" + server + " health down");
  }

  @Override
  public void setWeight(String backend, String server, int weight) {
    set("set weight " + backend + "/" + server + " " + weight);
  }

  /** A {@code set} command answers nothing when it worked, and a sentence when it did not. */
  private void set(String command) {
    var reply = command(command).strip();
    if (!reply.isEmpty()) {
      throw refused(command, reply);
    }
  }

  private RuntimeApiException refused(String command, String reply) {
    var hint =
        reply.contains("Permission denied")
            ? "; the stats socket needs 'level admin' in HAProxy's global section"
            : reply.contains("Unknown command")
                ? "; is " + address + " HAProxy's Runtime API?"
                : "";
    return new RuntimeApiException(
        "HAProxy at "
            + address
            + " refused '"
            + command
            + "': "
            + reply.lines().findFirst().orElse(reply)
            + hint);
  }

  /** Sends one command and returns the whole reply. */
  String command(String command) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (var channel = SocketChannel.open(address.family());
        var selector = Selector.open()) {
      channel.configureBlocking(false);
      if (!channel.connect(address.address())) {
        channel.register(selector, SelectionKey.OP_CONNECT);
        while (!channel.finishConnect()) {
          await(selector, deadline, command, "connecting");
        }
      }
      var request = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
      channel.register(selector, SelectionKey.OP_WRITE);
      while (request.hasRemaining()) {
        if (channel.write(request) == 0) {
          await(selector, deadline, command, "sending the command");
        }
      }
      channel.register(selector, SelectionKey.OP_READ);
      var reply = new ByteArrayOutputStream();
      var buffer = ByteBuffer.allocate(64 << 10);
      while (true) {
        int n = channel.read(buffer.clear());
        if (n < 0) {
          return reply.toString(StandardCharsets.UTF_8);
        }
        if (n == 0) {
          await(selector, deadline, command, "waiting for the reply");
          continue;
        }
        reply.write(buffer.array(), 0, n);
        if (reply.size() > MAX_REPLY) {
          throw new RuntimeApiException(
              "HAProxy at "
                  + address
                  + " answered '"
                  + command
                  + "' with more than "
                  + (MAX_REPLY >> 20)
                  + " MiB; is "
                  + address
                  + " HAProxy's Runtime API?");
        }
      }
    } catch (IOException e) {
      throw new RuntimeApiException(explain(e, command), e);
    }
  }

  private void await(Selector selector, long deadline, String command, String doing)
      throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0
        || selector.select(Math.max(1, left / 1_000_000)) == 0 && System.nanoTime() >= deadline) {
      throw new RuntimeApiException(
          "HAProxy's Runtime API at "
              + address
              + " did not answer '"
              + command
              + "' within "
              + timeout.toMillis()
              + " ms ("
              + doing
              + "); check that HAProxy is not stuck and that "
              + address
              + " is its stats socket, or raise --haproxy-timeout");
    }
    selector.selectedKeys().clear();
  }

  private String explain(IOException e, String command) {
    var message = String.valueOf(e.getMessage());
    if (address.address() instanceof java.net.UnixDomainSocketAddress unix
        && !Files.exists(unix.getPath())) {
      return "no HAProxy stats socket at "
          + address
          + ": the file does not exist; check HAProxy's 'stats socket' line"
          + " in its global section, or pass the right --haproxy";
    }
    if (e instanceof ConnectException || message.contains("Connection refused")) {
      return "HAProxy's Runtime API at "
          + address
          + " refused the connection; is HAProxy running, with"
          + " 'stats socket "
          + address
          + " level admin' in its global section?";
    }
    if (message.contains("Permission denied")) {
      return "permission denied on HAProxy's stats socket "
          + address
          + "; run as a user that may write it"
          + " (its 'mode' and 'user'/'group' in the 'stats socket' line)";
    }
    if (message.contains("Connection reset")) {
      return "HAProxy at "
          + address
          + " reset the connection during '"
          + command
          + "'; is it HAProxy's Runtime API?";
    }
    return "cannot talk to HAProxy's Runtime API at "
        + address
        + " ('"
        + command
        + "'): "
        + message;
  }

  @Override
  public String toString() {
    return "HAProxy Runtime API at " + address;
  }

  /** One line of a table, read by column name; a missing or empty field is "" or 0. */
  private record Row(Map<String, Integer> columns, List<String> fields) {
    Row(List<String> names, List<String> fields) {
      this(index(names), fields);
    }

    private static Map<String, Integer> index(List<String> names) {
      var map = new HashMap<String, Integer>();
      for (int i = 0; i < names.size(); i++) {
        map.putIfAbsent(names.get(i), i);
      }
      return map;
    }

    String text(String column) {
      var i = columns.get(column);
      return i == null || i >= fields.size() ? "" : fields.get(i);
    }

    long number(String column) {
      var text = text(column);
      try {
        return text.isEmpty() ? 0 : Long.parseLong(text);
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }
}
