package dev.baton.supervisor;

import dev.baton.config.Config;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends a new generation requests on its private probe listener before it is promoted, so the JIT
 * has compiled its hot paths by the time public traffic arrives. Keep-alive connections, like real
 * clients; the answers are read whole and only counted.
 */
final class WarmUp {
  private WarmUp() {}

  record Result(int requests, int errors, Duration took) {
    @Override
    public String toString() {
      return requests + " warm-up requests (" + errors + " not 2xx) in " + took.toMillis() + " ms";
    }
  }

  static Result run(InetSocketAddress address, Config.Warmup warmup) {
    long start = System.nanoTime();
    long deadline = start + warmup.duration().toNanos();
    var sent = new AtomicInteger();
    var errors = new AtomicInteger();
    var threads = new ArrayList<Thread>();
    for (int i = 0; i < warmup.concurrency(); i++) {
      threads.add(Thread.ofPlatform().daemon().name("warm-up-" + i).start(() -> {
        int turn = 0;
        while (System.nanoTime() < deadline && sent.get() < warmup.requests()) {
          try (var socket = new Socket()) {
            socket.connect(address, 2000);
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            var in = new BufferedInputStream(socket.getInputStream());
            var out = socket.getOutputStream();
            while (System.nanoTime() < deadline && sent.getAndIncrement() < warmup.requests()) {
              var url = warmup.urls().get(turn++ % warmup.urls().size());
              out.write(("GET " + url + " HTTP/1.1\r\nHost: warm-up\r\nUser-Agent: baton-warmup\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
              if (!readResponse(in)) {
                errors.incrementAndGet();
              }
            }
          } catch (IOException e) {
            errors.incrementAndGet();
          }
        }
      }));
    }
    for (var t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return new Result(Math.min(sent.get(), warmup.requests()), errors.get(), Duration.ofNanos(System.nanoTime() - start));
  }

  /** Reads one response with a Content-Length body; true for 2xx. */
  private static boolean readResponse(InputStream in) throws IOException {
    var status = line(in);
    long length = 0;
    for (var header = line(in); !header.isEmpty(); header = line(in)) {
      if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
        length = Long.parseLong(header.substring(15).trim());
      }
    }
    in.skipNBytes(length);
    return status.startsWith("HTTP/1.1 2") || status.startsWith("HTTP/1.0 2");
  }

  private static String line(InputStream in) throws IOException {
    var sb = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c == -1) {
        throw new IOException("connection closed mid-response");
      }
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }
}
