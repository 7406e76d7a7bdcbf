package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.haproxy.Host;
import dev.baton.haproxy.HostException;
import dev.baton.protocol.Codec;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "status",
    description =
        "Show each generation (number, state, pid, command, start, readiness) and each listener.")
final class StatusCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @Mixin ConfigOption config;

  @Option(names = "--json", description = "print the status as JSON")
  boolean json;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description =
          "a supervisor's remote API (https://host:7070) instead of a local config or socket")
  @Nullable String url;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "the bearer token for --url: the file [remote] token_file names on that host")
  @Nullable Path tokenFile;

  @Override
  public Integer call() {
    Status status;
    if (url != null) {
      try {
        status = Host.of(url, tokenFile, Duration.ofSeconds(10)).status();
      } catch (IllegalArgumentException e) {
        System.err.println("baton: " + e.getMessage());
        return Main.USAGE;
      } catch (HostException e) {
        System.err.println("baton: " + e.getMessage());
        return e.unreachable() ? Main.UNREACHABLE : Main.FAILED;
      }
    } else {
      Reply reply;
      try {
        reply =
            new ControlClient(config.load().control().socket())
                .call(new Request.GetStatus(), e -> {});
      } catch (ConfigException e) {
        System.err.println("baton: " + e.getMessage());
        return Main.USAGE;
      } catch (ControlClient.ControlException e) {
        System.err.println("baton: " + e.getMessage());
        return Main.UNREACHABLE;
      }
      var answer = Replies.expected(reply, Reply.StatusReply.class, "status");
      if (answer.isEmpty()) {
        return Main.FAILED;
      }
      status = answer.get().status();
    }
    if (json) {
      System.out.println(Codec.encode(status));
    } else {
      print(status);
    }
    return 0;
  }

  private static void print(Status status) {
    System.out.println(
        "supervisor pid "
            + status.supervisorPid()
            + status
                .activeGeneration()
                .map(g -> ", active generation " + g)
                .orElse(", no active generation")
            + (status.deploying() ? ", deploy in progress" : ""));
    status.crashLoop().ifPresent(why -> System.out.println("crash-looping: " + why));
    System.out.println();
    System.out.printf(
        "%-5s %-9s %-8s %-12s %-50s %s%n",
        "GEN", "STATE", "PID", "STARTED", "READINESS", "COMMAND");
    for (var g : status.generations()) {
      System.out.printf(
          "%-5d %-9s %-8d %-12s %-50s %s%n",
          g.number(),
          g.state(),
          g.pid(),
          time(g.started()),
          g.readiness(),
          String.join(" ", g.command()));
      // How it exited, why, or both; never a dash with nothing before it.
      var why =
          Stream.of(g.exit().orElse(""), g.reason())
              .filter(s -> !s.isBlank())
              .collect(Collectors.joining(" — "));
      if (!why.isEmpty()) {
        System.out.println("      " + why.strip());
      }
    }
    if (!status.parked().isEmpty()) {
      System.out.println("parked for rollback: generation(s) " + status.parked());
    }
    System.out.println();
    System.out.printf(
        "%-12s %-28s %-11s %-7s %-5s %s%n",
        "LISTENER", "ADDRESS", "PASS", "STEER", "FD", "GENERATIONS");
    for (var l : status.listeners()) {
      var held =
          l.generations().stream().map(String::valueOf).collect(Collectors.joining(","))
              + (l.retired() ? " (removed from the config; closed when they are gone)" : "");
      System.out.printf(
          "%-12s %-28s %-11s %-7s %-5d %s%n",
          l.name(), l.address(), l.pass(), l.steer(), l.fd(), held.isEmpty() ? "-" : held);
    }
    if (!status.history().isEmpty()) {
      System.out.println();
      System.out.printf("%-12s %-9s %-5s %-9s %s%n", "AT", "KIND", "GEN", "REPLACED", "REASON");
      for (var h : status.history()) {
        System.out.printf(
            "%-12s %-9s %-5d %-9s %s%n",
            time(h.at()),
            h.kind().name().toLowerCase(Locale.ROOT),
            h.generation(),
            h.replaced().map(String::valueOf).orElse("-"),
            h.reason());
      }
    }
  }

  private static String time(Instant instant) {
    return TIME.format(instant);
  }
}
