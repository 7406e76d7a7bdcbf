package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Os;
import dev.baton.protocol.Status;
import java.io.IOException;
import java.net.BindException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * [metrics]: Prometheus' /metrics and the status page at /, read-only and without a token, on
 * {@link RemoteHttp} with its limits, so a scraper or a browser left open costs a virtual thread
 * per request and nothing else. Each answer is made from one turn of the loop ({@link View}).
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

  /** What one turn of the loop saw: the status, the deploy record's newest entries, the metrics. */
  record View(Status status, List<DeployRecord.Entry> history, String metrics) {}

  /** How long an answer waits for the loop before it is a 503. */
  static final Duration LOOP_WAIT = Duration.ofSeconds(5);

  private final Supervisor supervisor;
  private final RemoteHttp server;

  private MetricsServer(Supervisor supervisor, ServerSocket listener) {
    this.supervisor = supervisor;
    this.server = new RemoteHttp(listener, null, RemoteHttp.Limits.DEFAULT, this::handle);
  }

  /**
   * Binds [metrics] address; serves nothing until {@link #start()}.
   *
   * @throws StartException when the address cannot be bound
   */
  public static MetricsServer bind(Supervisor supervisor) {
    var config = supervisor.config();
    Config.Metrics metrics =
        config
            .metrics()
            .orElseThrow(
                () -> new IllegalStateException(config.file() + " has no [metrics] table"));
    try {
      var listener = new ServerSocket();
      try {
        listener.setReuseAddress(true);
        listener.bind(metrics.address(), 64);
      } catch (IOException e) {
        listener.close();
        throw e;
      }
      return new MetricsServer(supervisor, listener);
    } catch (BindException e) {
      throw new StartException(
          "the metrics page cannot bind "
              + RemoteApi.hostPort(metrics.address())
              + ": "
              + e.getMessage()
              + "; stop whatever holds it or change [metrics] address in "
              + config.file());
    } catch (IOException e) {
      throw new StartException(
          "the metrics page cannot listen on "
              + RemoteApi.hostPort(metrics.address())
              + ": "
              + e.getMessage());
    }
  }

  public void start() {
    server.start();
    LOG.info("metrics and status page on http://{}/", RemoteApi.hostPort(server.address()));
  }

  java.net.InetSocketAddress address() {
    return server.address();
  }

  @Override
  public void close() {
    server.stop(Duration.ofSeconds(1));
  }

  private void handle(RemoteHttp.Exchange exchange) throws IOException {
    if (!exchange.method().equals("GET") && !exchange.method().equals("HEAD")) {
      var headers = new LinkedHashMap<String, String>();
      headers.put("Allow", "GET, HEAD");
      text(exchange, 405, headers, "only GET: nothing here changes the service\n");
      return;
    }
    var path = exchange.path();
    int query = path.indexOf('?');
    path = query < 0 ? path : path.substring(0, query);
    if (!path.equals("/metrics") && !path.equals("/")) {
      text(exchange, 404, new LinkedHashMap<>(), "not found: try /metrics or /\n");
      return;
    }
    View view;
    try {
      view = view();
    } catch (Unanswered e) {
      // An answer, not a closed connection: Prometheus then shows this as the scrape's error.
      var headers = new LinkedHashMap<String, String>();
      headers.put("Retry-After", "1");
      text(exchange, 503, headers, e.getMessage() + "\n");
      return;
    }
    var headers = new LinkedHashMap<String, String>();
    if (path.equals("/metrics")) {
      headers.put("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.send(200, headers, (view.metrics() + process()).getBytes(StandardCharsets.UTF_8));
    } else {
      headers.put("Content-Type", "text/html; charset=utf-8");
      headers.put("Cache-Control", "no-store");
      exchange.send(200, headers, StatusPage.render(view).getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The loop gave no view in time, or failed to. */
  static final class Unanswered extends Exception {
    private static final long serialVersionUID = 1L;

    Unanswered(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static void text(
      RemoteHttp.Exchange exchange, int code, Map<String, String> headers, String body)
      throws IOException {
    headers.put("Content-Type", "text/plain; charset=utf-8");
    exchange.send(code, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  /** One turn of the loop's view; waits at most {@link #LOOP_WAIT} for a loop that is busy. */
  private View view() throws Unanswered {
    var loop = supervisor.loop();
    try {
      return loop.call(
              () -> {
                var status = supervisor.status();
                var queues = new LinkedHashMap<String, Optional<Os.AcceptQueue>>();
                for (var b : supervisor.listeners().all()) {
                  queues.put(b.config().name(), supervisor.os().acceptQueue(b.fd()));
                }
                return CompletableFuture.completedFuture(
                    new View(
                        status,
                        supervisor.deployRecord().recent(),
                        supervisor.deployRecord().metrics().render(status, queues, version())));
              })
          .get(LOOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unanswered("interrupted", e);
    } catch (TimeoutException e) {
      throw new Unanswered(
          "the supervisor's loop did not answer within " + LOOP_WAIT.toMillis() + " ms", e);
    } catch (ExecutionException | RuntimeException e) {
      LOG.warn("the metrics page's view failed", e);
      throw new Unanswered("the supervisor could not make this page: " + e, e);
    }
  }

  static String version() {
    return System.getProperty("baton.version", "dev");
  }

  /** The supervisor process's own CPU, memory, descriptors and threads, from /proc/self. */
  private static String process() {
    var out = new StringBuilder(512);
    try {
      var stat = Files.readString(Path.of("/proc/self/stat"));
      // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      double cpu = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
      long threads = Long.parseLong(fields[17]);
      var statm = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
      long rss = Long.parseLong(statm[1]) * 4096;
      long fds;
      try (var list = Files.list(Path.of("/proc/self/fd"))) {
        fds = list.count();
      }
      Metrics.counter(out, "baton_process_cpu_seconds_total", "The supervisor's CPU time.");
      out.append("baton_process_cpu_seconds_total ").append(cpu).append('\n');
      Metrics.gauge(out, "baton_process_resident_memory_bytes", "The supervisor's RSS.");
      Metrics.line(out, "baton_process_resident_memory_bytes", "", rss);
      Metrics.gauge(out, "baton_process_open_fds", "The supervisor's open file descriptors.");
      Metrics.line(out, "baton_process_open_fds", "", fds);
      Metrics.gauge(out, "baton_process_threads", "The supervisor's threads.");
      Metrics.line(out, "baton_process_threads", "", threads);
    } catch (IOException | RuntimeException e) {
      LOG.debug("no process metrics: {}", e.toString());
    }
    return out.toString();
  }
}
