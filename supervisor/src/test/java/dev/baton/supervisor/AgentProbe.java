package dev.baton.supervisor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/** The client side of the agent-check tests: HAProxy's part, and a live responder to aim it at. */
final class AgentProbe {
  private AgentProbe() {}

  /** A live responder on loopback whose "draining" is {@code drain}, answered at once. */
  static AgentCheck start(AtomicBoolean drain, int weight) throws IOException {
    var check =
        AgentCheck.open(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            weight,
            () -> CompletableFuture.completedFuture(drain.get()));
    check.start();
    return check;
  }

  /** What HAProxy does: connect, send {@code send} (if any), read to EOF. */
  static String check(InetSocketAddress agent, String send) throws IOException {
    return check(agent, send, InetAddress.getLoopbackAddress());
  }

  /** A check from {@code source}, one of the 127/8 addresses loopback answers to. */
  static String check(InetSocketAddress agent, String send, InetAddress source) throws IOException {
    try (var socket = new Socket()) {
      socket.bind(new InetSocketAddress(source, 0));
      socket.connect(agent, 3000);
      socket.setSoTimeout(5000);
      if (!send.isEmpty()) {
        socket.getOutputStream().write(send.getBytes(StandardCharsets.ISO_8859_1));
      }
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** Reads what is there until EOF, a reset, or {@code limit}; the bytes read. */
  static String readToEnd(Socket socket, Duration limit) throws IOException {
    socket.setSoTimeout((int) limit.toMillis());
    var out = new ByteArrayOutputStream();
    var buffer = new byte[512];
    try {
      for (int n; (n = socket.getInputStream().read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (java.net.SocketException e) {
      // a reset ends it as well as an EOF
    }
    return out.toString(StandardCharsets.US_ASCII);
  }

  /** Waits up to {@code limit} for {@code condition}; whether it held. */
  static boolean await(Duration limit, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }
}
