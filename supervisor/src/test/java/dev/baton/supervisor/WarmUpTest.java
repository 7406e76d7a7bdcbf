package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.config.Config;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Warm-up against a loopback server written byte by byte here, so each test fixes the framing of
 * the answers exactly: chunked, Content-Length, or a body that ends when the connection closes.
 */
class WarmUpTest {
  private static final Config.Warmup WARMUP =
      new Config.Warmup(List.of("/a", "/b"), 200, Duration.ofSeconds(30), 2);

  @Test
  void chunkedAnswersOverKeptAliveConnectionsAreReadWhole() throws Exception {
    // Chunks of several sizes, a chunk extension and a trailer: what Node, Go and Puma send.
    try (var server =
        new RawServer(
            n ->
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n1a;ext=1\r\n"
                    + "x".repeat(26)
                    + "\r\n0\r\nX-Trailer: t\r\n\r\n",
            true)) {
      var result = WarmUp.run(server.address(), WARMUP);
      assertThat(result.requests()).isEqualTo(200);
      assertThat(result.errors()).isZero();
      assertThat(server.served.get()).isEqualTo(200);
      assertThat(server.connections.get()).as("connections kept alive").isBetween(1, 2);
    }
  }

  @Test
  void contentLengthAnswersAreCountedAndNon2xxAreErrors() throws Exception {
    try (var server =
        new RawServer(
            n -> {
              var status = n % 4 == 0 ? "500 Internal Server Error" : "200 OK";
              return "HTTP/1.1 " + status + "\r\nContent-Length: 3\r\n\r\nabc";
            },
            true)) {
      var result = WarmUp.run(server.address(), WARMUP);
      assertThat(result.requests()).isEqualTo(200);
      assertThat(result.errors()).isEqualTo(50);
      assertThat(server.served.get()).isEqualTo(200);
    }
  }

  @Test
  void aBodyEndedByClosingTheConnectionIsReadAndANewConnectionTaken() throws Exception {
    try (var server =
        new RawServer(n -> "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", false)) {
      var result =
          WarmUp.run(
              server.address(), new Config.Warmup(List.of("/"), 20, Duration.ofSeconds(30), 2));
      assertThat(result.requests()).isEqualTo(20);
      assertThat(result.errors()).isZero();
      assertThat(server.connections.get()).isEqualTo(20);
    }
  }

  /**
   * HTTP/1.1 on loopback: reads each request's head, writes {@code answer(n)} for the n-th request.
   */
  private static final class RawServer implements AutoCloseable {
    final AtomicInteger served = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> accepted = new ArrayList<>();
    private final Thread acceptor;

    RawServer(IntFunction<String> answer, boolean keepAlive) throws IOException {
      acceptor =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    while (!socket.isClosed()) {
                      try {
                        var connection = socket.accept();
                        connections.incrementAndGet();
                        synchronized (accepted) {
                          accepted.add(connection);
                        }
                        Thread.ofPlatform()
                            .daemon()
                            .start(() -> serve(connection, answer, keepAlive));
                      } catch (IOException closed) {
                        return;
                      }
                    }
                  });
    }

    private void serve(Socket connection, IntFunction<String> answer, boolean keepAlive) {
      try (connection) {
        var in =
            new BufferedReader(
                new InputStreamReader(connection.getInputStream(), StandardCharsets.US_ASCII));
        OutputStream out = connection.getOutputStream();
        while (true) {
          var requestLine = in.readLine();
          if (requestLine == null) {
            return;
          }
          for (var header = in.readLine();
              header != null && !header.isEmpty();
              header = in.readLine()) {
            // the head only: warm-up sends GETs without a body
          }
          out.write(answer.apply(served.incrementAndGet()).getBytes(StandardCharsets.US_ASCII));
          out.flush();
          if (!keepAlive) {
            return;
          }
        }
      } catch (IOException e) {
        // the client went away
      }
    }

    InetSocketAddress address() {
      return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
    }

    @Override
    public void close() throws Exception {
      socket.close();
      acceptor.join(5000);
      synchronized (accepted) {
        for (var s : accepted) {
          s.close();
        }
      }
    }
  }
}
