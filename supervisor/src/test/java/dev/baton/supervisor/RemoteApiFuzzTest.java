package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated requests, well-formed, malformed, truncated and huge, sent to a live RemoteApi on
 * loopback, one per connection from several clients at once. Whatever arrives, the server answers
 * with an HTTP status or closes the connection within the request deadline, no exception escapes
 * into a thread's end, its accept and watchdog threads live on, and it answers a valid request at
 * the end. {@code -Dremote.fuzz.inputs=N} sends more (default 100,000); {@code
 * -Dremote.fuzz.seed=S} replays one run.
 */
class RemoteApiFuzzTest {
  private static final int INPUTS = Integer.getInteger("remote.fuzz.inputs", 100_000);
  private static final long SEED = Long.getLong("remote.fuzz.seed", System.nanoTime());
  private static final int CLIENTS = 8;
  private static final String[] METHODS = {
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get", "POS", "", "G\u00e9T"
  };
  private static final String[] PATHS = {
    "/v1/status",
    "/v1/deploy",
    "/v1/rollback",
    "/v1/stop",
    "/",
    "/v1/",
    "/v1/status?x=1",
    "/../etc/passwd",
    "*",
    "http://x/v1/status",
    "/v1/deploy#",
    "/%00",
    ""
  };
  private static final String[] VERSIONS = {
    "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra", "", "HTTP/1.", "http/1.1"
  };
  private static final String[] BODIES = {
    "{}",
    "{\"argv\":[\"/bin/sh\"]}",
    "{\"env\":{\"LOG_LEVEL\":\"debug\"}}",
    "{\"env\":{\"LD_PRELOAD\":\"/x.so\"}}",
    "{\"argv\":[]}",
    "{\"reason\":\"fuzz\",\"wait\":true}",
    "{\"wait\":\"yes\"}",
    "[1,2,3]",
    "null",
    "\"str\"",
    "{\"argv\":[1,{}]}",
    "{\"env\":{\"A\":null}}",
    "{\"argv\":[\"x\"],\"argv\":[\"y\"]}",
    "{\"a\":" + "[".repeat(5000) + "]",
    "{\"",
    "\u0000\u0001\u00ff",
    "{\"env\":{\"LOG_LEVEL\":\"" + "x".repeat(70_000) + "\"}}"
  };

  @TempDir Path dir;

  @Test
  void noInputEndsAThreadOrTheServerAndItStillAnswersAtTheEnd() throws Exception {
    var uncaught = new ConcurrentLinkedQueue<Throwable>();
    var before = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
    var supervisor =
        RemoteApiTest.stoppedSupervisor(
            dir, "address = \"127.0.0.1:0\"\nallow_env = [\"LOG_LEVEL\"]\n");
    try (var api =
        RemoteApi.bind(
            supervisor, RemoteHttp.Limits.DEFAULT, RemoteApiTest.owner(dir.resolve("token")))) {
      api.start();
      var next = new AtomicInteger();
      var problems = new ConcurrentLinkedQueue<String>();
      var answered = new AtomicInteger();
      var clients = new ArrayList<Thread>();
      // A few inputs stay open after their last byte, at once: the server must end each by itself,
      // by an answer or at the request deadline; the rest say where they end, so the run is quick.
      for (int c = 0; c < 32; c++) {
        var random = new Random(SEED - 1 - c);
        clients.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      var input = generate(random);
                      try {
                        var answer = send(api, new Input(input.bytes, false));
                        if (!answer.isEmpty() && !answer.startsWith("HTTP/1.1 ")) {
                          problems.add(
                              "answer '"
                                  + head(answer)
                                  + "' to '"
                                  + head(new String(input.bytes, StandardCharsets.ISO_8859_1))
                                  + "'");
                        }
                      } catch (SocketTimeoutException e) {
                        problems.add(
                            "no answer or close within 15 s to '"
                                + head(new String(input.bytes, StandardCharsets.ISO_8859_1))
                                + "'");
                      } catch (IOException e) {
                        // As below.
                      }
                    }));
      }
      for (int c = 0; c < CLIENTS; c++) {
        var random = new Random(SEED + c);
        clients.add(
            Thread.ofPlatform()
                .name("fuzz-" + c)
                .start(
                    () -> {
                      for (int i = next.getAndIncrement();
                          i < INPUTS && problems.isEmpty();
                          i = next.getAndIncrement()) {
                        var input = generate(random);
                        try {
                          var answer = send(api, input);
                          if (!answer.isEmpty()) {
                            answered.incrementAndGet();
                            if (!answer.matches(
                                "(?s)HTTP/1\\.1 (200|400|401|403|404|405|411|413|431|501|503) .*")) {
                              problems.add(
                                  "answer '"
                                      + head(answer)
                                      + "' to '"
                                      + head(new String(input.bytes, StandardCharsets.ISO_8859_1))
                                      + "'");
                            }
                          }
                        } catch (SocketTimeoutException e) {
                          problems.add(
                              "no answer or close within 15 s to '"
                                  + head(new String(input.bytes, StandardCharsets.ISO_8859_1))
                                  + "'");
                        } catch (IOException e) {
                          // Refused or reset while we still wrote: the server may close on a
                          // request it has judged.
                        }
                      }
                    }));
      }
      for (var client : clients) {
        client.join();
      }

      assertThat(problems).as("seed " + SEED).isEmpty();
      assertThat(next.get()).isGreaterThanOrEqualTo(INPUTS);
      assertThat(answered.get()).as("most inputs get an HTTP answer").isGreaterThan(INPUTS / 2);
      assertThat(
              RemoteApiTest.exchange(
                  api,
                  "GET /v1/status HTTP/1.1\r\nAuthorization: Bearer "
                      + RemoteApiTest.TOKEN
                      + "\r\n\r\n"))
          .startsWith("HTTP/1.1 200 OK\r\n")
          .contains("\"ok\":true");
      assertThat(api.http().serving()).isTrue();
      assertThat(api.http().unexpected())
          .as("handler failures (see the log), seed " + SEED)
          .isZero();
      assertThat(uncaught).as("seed " + SEED).isEmpty();
      long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (api.http().open() > 0 && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertThat(api.http().open()).as("connections still open").isZero();
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(before);
    }
  }

  private record Input(byte[] bytes, boolean halfClose) {}

  /** One connection: write, say that is all (or not), read to the server's close. */
  private static String send(RemoteApi api, Input input) throws IOException {
    try (var socket = new Socket(api.address().getAddress(), api.address().getPort())) {
      // Reset on close: 100,000 connections must not leave 100,000 in TIME_WAIT.
      socket.setSoLinger(true, 0);
      socket.setSoTimeout(15_000);
      try {
        socket.getOutputStream().write(input.bytes);
        if (input.halfClose) {
          socket.shutdownOutput();
        }
      } catch (SocketException e) {
        // The server answered before the end of a long input: read what it said.
      }
      var out = new ByteArrayOutputStream();
      var buffer = new byte[8192];
      try {
        for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) {
          out.write(buffer, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw e;
      } catch (SocketException e) {
        // Reset after, or instead of, an answer.
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static String head(String text) {
    var line = text.length() > 100 ? text.substring(0, 100) + "..." : text;
    return line.replace("\r", "\\r").replace("\n", "\\n");
  }

  private static <T> T pick(Random random, T[] values) {
    return values[random.nextInt(values.length)];
  }

  static Input generate(Random random) {
    int kind = random.nextInt(100);
    if (kind < 5) {
      var bytes = new byte[random.nextInt(kind == 0 ? 20_000 : 300)];
      random.nextBytes(bytes);
      return new Input(bytes, true);
    }
    var text = new StringBuilder();
    var method = kind < 60 ? (random.nextBoolean() ? "GET" : "POST") : pick(random, METHODS);
    var path =
        kind < 60
            ? pick(random, new String[] {"/v1/status", "/v1/deploy", "/v1/rollback"})
            : pick(random, PATHS);
    var version = kind < 70 ? "HTTP/1.1" : pick(random, VERSIONS);
    text.append(method)
        .append(random.nextInt(20) == 0 ? "  " : " ")
        .append(path)
        .append(' ')
        .append(version);
    var eol = random.nextInt(10) == 0 ? "\n" : "\r\n";
    text.append(eol);
    var body = random.nextInt(4) == 0 ? "" : pick(random, BODIES);
    if (random.nextInt(10) == 0) {
      body = mutate(random, body);
    }
    var headers = new ArrayList<String>();
    switch (random.nextInt(6)) {
      case 0, 1, 2 -> headers.add("Authorization: Bearer " + RemoteApiTest.TOKEN);
      case 3 -> headers.add("Authorization: Bearer wrong");
      case 4 -> headers.add("authorization:bearer   " + RemoteApiTest.TOKEN + "  ");
      default -> {}
    }
    int bodyBytes = body.getBytes(StandardCharsets.UTF_8).length;
    switch (random.nextInt(12)) {
      case 0 -> headers.add("Content-Length: " + (bodyBytes + 1 + random.nextInt(100)));
      case 1 -> headers.add("Content-Length: " + random.nextLong());
      case 2 -> headers.add("Content-Length: abc");
      case 3 -> headers.add("Transfer-Encoding: chunked");
      case 4 -> {
        headers.add("Content-Length: " + bodyBytes);
        headers.add("Content-Length: " + (bodyBytes + 5));
      }
      case 5 -> {}
      default -> headers.add("Content-Length: " + bodyBytes);
    }
    switch (random.nextInt(20)) {
      case 0 -> headers.add("X-Big: " + "b".repeat(random.nextInt(20_000)));
      case 1 -> {
        for (int i = random.nextInt(200); i > 0; i--) {
          headers.add("X-" + i + ": " + i);
        }
      }
      case 2 -> headers.add(" folded: line");
      case 3 -> headers.add("no colon here");
      case 4 -> headers.add(": empty name");
      case 5 -> headers.add("Host: a");
      default -> headers.add("Host: 127.0.0.1");
    }
    java.util.Collections.shuffle(headers, random);
    for (var h : headers) {
      text.append(h).append(eol);
    }
    text.append(eol).append(body);
    var bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    if (random.nextInt(8) == 0) {
      bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
    }
    if (random.nextInt(30) == 0 && bytes.length > 0) {
      bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
    }
    return new Input(bytes, true);
  }

  private static String mutate(Random random, String body) {
    if (body.isEmpty()) {
      return "{";
    }
    var chars = body.toCharArray();
    for (int i = random.nextInt(4); i >= 0; i--) {
      chars[random.nextInt(chars.length)] = (char) random.nextInt(128);
    }
    return new String(chars, 0, random.nextInt(chars.length + 1));
  }

  /** The generator itself is deterministic for a seed: a failure can be replayed. */
  @Test
  void theGeneratorReplaysASeed() {
    var a = new Random(7);
    var b = new Random(7);
    List<byte[]> first = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      first.add(generate(a).bytes);
    }
    for (int i = 0; i < 100; i++) {
      assertThat(generate(b).bytes).isEqualTo(first.get(i));
    }
  }
}
