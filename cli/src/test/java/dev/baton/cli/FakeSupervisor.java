package dev.baton.cli;

import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A supervisor's control socket, played by a test: it reads each connection's request line, decodes
 * and records it with the protocol's {@link Codec}, and answers with the lines scripted for that
 * connection (deploy events, then a reply), then hangs up. Each {@link #answer} scripts one
 * connection; the last one scripted answers every connection after it.
 */
final class FakeSupervisor implements AutoCloseable {
  private final Path socket;
  private final ServerSocketChannel server;
  private final Thread thread;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<String> malformed = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedDeque<List<String>> answers = new ConcurrentLinkedDeque<>();

  private FakeSupervisor(Path socket) throws IOException {
    this.socket = socket;
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    thread = Thread.ofPlatform().daemon().name("fake-supervisor").start(this::serve);
  }

  /** Listens at {@code socket}, answering nothing until told what to answer. */
  static FakeSupervisor at(Path socket) {
    try {
      return new FakeSupervisor(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The next connection's answer: each message a {@link DeployEvent}, a {@link Reply} or a raw
   * line; none to hang up without a word.
   */
  FakeSupervisor answer(Object... messages) {
    var lines = new ArrayList<String>();
    for (var m : messages) {
      lines.add(
          switch (m) {
            case DeployEvent e -> Codec.encode(e);
            case Reply r -> Codec.encode(r);
            case String raw -> raw;
            default -> throw new IllegalArgumentException("not a message: " + m);
          });
    }
    answers.addLast(List.copyOf(lines));
    return this;
  }

  /** Every request received so far, in order. */
  List<Request> requests() {
    if (!malformed.isEmpty()) {
      throw new AssertionError("the CLI sent malformed requests: " + malformed);
    }
    return List.copyOf(requests);
  }

  /** The one request received; fails if there were more or none. */
  Request request() {
    var all = requests();
    if (all.size() != 1) {
      throw new AssertionError("expected one request, got " + all);
    }
    return all.getFirst();
  }

  private void serve() {
    while (true) {
      try (SocketChannel channel = server.accept()) {
        exchange(channel);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!server.isOpen()) {
          return;
        }
        // The client went away mid-exchange; serve the next one.
      }
    }
  }

  private void exchange(SocketChannel channel) throws IOException {
    var in =
        new BufferedReader(
            new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    var line = in.readLine();
    if (line == null) {
      return;
    }
    try {
      requests.add(Codec.decodeRequest(line));
    } catch (MalformedRequest e) {
      malformed.add(line + ": " + e.getMessage());
      return;
    }
    var script = answers.size() > 1 ? answers.pollFirst() : answers.peekFirst();
    if (script == null || script.isEmpty()) {
      return;
    }
    var out = Channels.newOutputStream(channel);
    out.write((String.join("\n", script) + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() throws Exception {
    server.close();
    thread.join(5_000);
    Files.deleteIfExists(socket);
  }
}
