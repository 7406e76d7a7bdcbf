package dev.baton.supervisor;

import dev.baton.config.Config;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends a new generation requests on its private probe listener before it is promoted, so the JIT
 * has compiled its hot paths by the time public traffic arrives. Keep-alive connections, like real
 * clients; the answers are read whole (any framing HTTP/1.1 allows: Content-Length, chunked, or
 * until close) and only counted.
 *
 * <p>Runs off the loop thread: it blocks for as long as the warm-up lasts.
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
    var base = "http://" + address.getAddress().getHostAddress() + ":" + address.getPort();
    // HTTP/1.1 only: an h2c upgrade would warm a path public clients of an HTTP/1.1 app never take.
    // The client's pool keeps up to one connection per worker alive between requests.
    try (var client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build()) {
      var threads = new ArrayList<Thread>();
      for (int i = 0; i < warmup.concurrency(); i++) {
        int worker = i;
        threads.add(
            Thread.ofPlatform()
                .daemon()
                .name("warm-up-" + i)
                .start(
                    () -> {
                      int turn = worker;
                      while (System.nanoTime() < deadline
                          && sent.getAndIncrement() < warmup.requests()) {
                        var url = warmup.urls().get(turn++ % warmup.urls().size());
                        var request =
                            HttpRequest.newBuilder(URI.create(base + url))
                                .GET()
                                .timeout(Duration.ofSeconds(5))
                                .header("User-Agent", "baton-warmup")
                                .build();
                        try {
                          int status =
                              client
                                  .send(request, HttpResponse.BodyHandlers.discarding())
                                  .statusCode();
                          if (status < 200 || status > 299) {
                            errors.incrementAndGet();
                          }
                        } catch (IOException | IllegalArgumentException e) {
                          errors.incrementAndGet();
                        } catch (InterruptedException e) {
                          Thread.currentThread().interrupt();
                          return;
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
    }
    return new Result(
        Math.min(sent.get(), warmup.requests()),
        errors.get(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
