package dev.baton.cli;

import dev.baton.bench.Demo;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    sortOptions = false,
    description = {
      "See it work: start the bundled sample service under `baton run`, deploy it again and again, back to"
          + " back, while requests arrive on new connections; then print each deploy's steps, the requests,"
          + " the failures (none, we hope) and the latency, and where the log is.",
      "Needs nothing but this tree; takes about 20 s (--short: about 8 s)."
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  no request failed and every deploy was promoted",
      "  1  otherwise; what failed is printed",
      "  2  bad usage"
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--deploys",
      paramLabel = "N",
      description = "how many deploys (default: 40; --short: 5)")
  @Nullable Integer deploys;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "requests in flight at once (default: ${DEFAULT-VALUE})",
      defaultValue = "8")
  int concurrency;

  @Option(names = "--short", description = "5 deploys: the quick check the tests run")
  boolean shortRun;

  @Override
  public Integer call() {
    int n = deploys != null ? deploys : shortRun ? 5 : 40;
    Demo demo;
    try {
      demo = new Demo(n, concurrency, Duration.ofSeconds(120), System.out);
    } catch (IllegalArgumentException e) {
      System.err.println("baton demo: " + e.getMessage());
      return Main.USAGE;
    }
    var interrupted = new AtomicBoolean();
    var done = new CountDownLatch(1);
    var hook =
        Thread.ofPlatform()
            .unstarted(
                () -> {
                  interrupted.set(true);
                  demo.stop();
                  try {
                    done.await(60, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  demo.close();
                });
    Runtime.getRuntime().addShutdownHook(hook);
    Demo.Result result;
    try {
      result = demo.run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("baton demo: " + e.getMessage());
      return interrupted.get() ? RunCommand.KEEP_RUNNING : Main.FAILED;
    } finally {
      demo.close();
      done.countDown();
    }
    if (interrupted.get()) {
      return RunCommand.KEEP_RUNNING;
    }
    Runtime.getRuntime().removeShutdownHook(hook);
    return result.ok() ? 0 : Main.FAILED;
  }
}
