package dev.baton.cli;

import dev.baton.config.Config;
import dev.baton.config.ConfigException;
import dev.baton.protocol.Request;
import dev.baton.supervisor.LogFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "logs",
    description = {
      "Print the generations' output from the [logs] file, oldest rotated file first.",
      "With -f, keep printing new lines as they come, across rotations, until interrupted.",
      "With --reopen, ask the supervisor to reopen the file (after logrotate moved it), as SIGHUP does."
    })
final class LogsCommand implements Callable<Integer> {
  /** How often -f looks for new lines: often enough to feel live, rarely enough to cost nothing. */
  private static final long FOLLOW_POLL_MILLIS = 200;

  @Mixin ConfigOption config;

  @Option(
      names = {"-f", "--follow"},
      description = "keep printing new lines, across rotations")
  boolean follow;

  @Option(names = "--generation", paramLabel = "N", description = "only the lines of generation N")
  @Nullable Integer generation;

  @Option(
      names = {"-n", "--lines"},
      paramLabel = "LINES",
      description = "only the last LINES lines (default: all)")
  @Nullable Integer lines;

  @Option(
      names = "--reopen",
      description = "make the supervisor reopen its log file, e.g. from logrotate's postrotate")
  boolean reopen;

  /**
   * The log's lines as the UTF-8 they are, whatever stdout.encoding says; through System.out, so
   * that whoever replaced it (a test) gets them too.
   */
  private final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (reopen) {
      int code = Replies.send(config, new Request.ReopenLogs(), false);
      if (code == 0) {
        System.out.println("reopened the log file");
      }
      return code;
    }
    if (lines != null && lines < 0) {
      System.err.println("baton: -n must be 0 or more lines");
      return Main.USAGE;
    }
    Config.Logs logs;
    try {
      logs = config.load().logs();
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    if (logs.file().isEmpty()) {
      System.err.println(
          "baton: "
              + config.file()
              + " has no [logs] file, so the generations' output goes to the supervisor's"
              + " own log (journalctl -u baton@NAME under systemd); add [logs] file = \"app.log\" to keep it in a file");
      return Main.USAGE;
    }
    var path = logs.file().get();
    var files = LogFile.oldestFirst(path, logs.keep());
    if (files.isEmpty() && !follow) {
      System.err.println(
          "baton: no log at " + path + " yet: the supervisor creates it when it starts");
      return Main.FAILED;
    }
    var printer = new Printer(lines == null ? Integer.MAX_VALUE : lines);
    for (var file : files) {
      if (!file.equals(path)) {
        try (var in = Files.newInputStream(file)) {
          printer.copy(in);
        } catch (NoSuchFileException e) {
          // Rotated away while we read the older ones: its lines are in the next file we read.
        }
      }
    }
    if (!follow) {
      if (Files.exists(path)) {
        try (var in = Files.newInputStream(path)) {
          printer.copy(in);
        }
      }
      printer.flush();
      return 0;
    }
    follow(path, printer);
    return 0;
  }

  /**
   * Prints the current file and then what is appended to it. When the file is replaced (rotated, or
   * moved by logrotate) the rest of the old one is printed first, then the new one from its start;
   * when it is truncated (logrotate's copytruncate), reading starts again at its beginning.
   */
  private void follow(Path path, Printer printer) throws IOException, InterruptedException {
    var reading = Current.open(path);
    var buffer = ByteBuffer.allocate(64 * 1024);
    while (true) {
      if (reading == null) {
        reading = Current.open(path);
      } else {
        int n = reading.channel.read(buffer.clear());
        if (n > 0) {
          printer.accept(buffer.array(), n);
          continue;
        }
        printer.flush();
        var now = Current.key(path);
        if (!Objects.equals(now, reading.key)) {
          // Replaced: the supervisor may have written to the old file after our last read and
          // before it rotated, but never after; so its end, read now, is really its end.
          for (int m = reading.channel.read(buffer.clear());
              m > 0;
              m = reading.channel.read(buffer.clear())) {
            printer.accept(buffer.array(), m);
          }
          reading.channel.close();
          reading = Current.open(path);
          continue;
        }
        if (reading.channel.size() < reading.channel.position()) {
          reading.channel.position(0);
          continue;
        }
      }
      Thread.sleep(FOLLOW_POLL_MILLIS);
    }
  }

  /** The file being followed, and its identity (device, inode) when it was opened. */
  private record Current(FileChannel channel, Object key) {
    /** Null while the file does not exist. */
    static @Nullable Current open(Path path) throws IOException {
      try {
        var key = key(path);
        return key == null ? null : new Current(FileChannel.open(path), key);
      } catch (NoSuchFileException e) {
        return null;
      }
    }

    static @Nullable Object key(Path path) throws IOException {
      try {
        return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException e) {
        return null;
      }
    }
  }

  /**
   * Splits bytes into whole lines and prints those of the chosen generation. Until the first flush
   * it holds the last {@code last} lines back, for -n; after it, lines are printed as they come.
   */
  private final class Printer {
    private final int last;
    private final ArrayDeque<String> held = new ArrayDeque<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private boolean holding = true;

    Printer(int last) {
      this.last = last;
    }

    void copy(InputStream in) throws IOException {
      var chunk = new byte[64 * 1024];
      for (int n = in.read(chunk); n != -1; n = in.read(chunk)) {
        accept(chunk, n);
      }
      // A file ends with a whole line: the supervisor writes nothing else. A rotated file that
      // somehow does not is still printed whole.
      if (partial.size() > 0) {
        line(partial.toString(StandardCharsets.UTF_8));
        partial.reset();
      }
    }

    void accept(byte[] bytes, int length) {
      int from = 0;
      for (int i = 0; i < length; i++) {
        if (bytes[i] == '\n') {
          partial.write(bytes, from, i - from);
          line(partial.toString(StandardCharsets.UTF_8));
          partial.reset();
          from = i + 1;
        }
      }
      partial.write(bytes, from, length - from);
    }

    private void line(String line) {
      if (generation != null && LogFile.generationOf(line).orElse(-1) != generation) {
        return;
      }
      if (!holding) {
        out.println(line);
        return;
      }
      if (last == 0) {
        return;
      }
      if (held.size() == last) {
        held.removeFirst();
      }
      held.addLast(line);
    }

    void flush() {
      if (holding) {
        held.forEach(out::println);
        held.clear();
        holding = false;
      }
      out.flush();
    }
  }
}
