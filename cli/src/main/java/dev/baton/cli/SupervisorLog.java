package dev.baton.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervisor's own log, on stdout (journald under systemd), one event per line, never
 * interleaved mid-line: text lines ({@code 12:00:00.123 INFO message}), or, with {@code
 * BATON_LOG_FORMAT=json} (environment or -D) or {@code [logs] json = true} in the config, one JSON
 * object per event from logback's own JsonEncoder: time, level, thread, logger, the formatted
 * message and its key-value pairs (a generation's lines carry "generation" and "stream"). {@code
 * BATON_LOG_LEVEL} sets the level (INFO by default).
 *
 * <p>Set up in code by {@link Setup}, which logback finds as a service, rather than by a
 * logback.xml: reading XML costs logback's Joran and the JDK's XML parser, 637 classes and 3.7 MiB
 * of the supervisor's resident memory (bench/measure/weight.py), for a fixed two-line
 * configuration. {@code -Dlogback.configurationFile} still wins: then Setup steps aside and logback
 * reads that file.
 */
final class SupervisorLog {
  private static final String FORMAT = "BATON_LOG_FORMAT";
  private static final String LEVEL = "BATON_LOG_LEVEL";

  private SupervisorLog() {}

  /**
   * {@code [logs] json} asks for JSON, but the config is read after logging started; the choice is
   * applied by configuring logback again.
   */
  static void useJson() {
    if ("json".equals(setting(FORMAT))) {
      return;
    }
    // A system property, not the environment: it reaches logback, never the generations.
    System.setProperty(FORMAT, "json");
    var context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    try {
      new ContextInitializer(context).autoConfig();
    } catch (JoranException e) {
      System.err.println(
          "baton: cannot switch the log to JSON: " + e.getMessage() + "; logging as text");
    }
  }

  private static String setting(String name) {
    return System.getProperty(name, System.getenv(name));
  }

  /** The configuration, registered in META-INF/services/ch.qos.logback.classic.spi.Configurator. */
  public static final class Setup extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
      if (System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY) != null) {
        return ExecutionStatus.INVOKE_NEXT_IF_ANY;
      }
      Encoder<ILoggingEvent> encoder = "json".equals(setting(FORMAT)) ? json() : new TextEncoder();
      encoder.setContext(context);
      encoder.start();
      var out = new ConsoleAppender<ILoggingEvent>();
      out.setContext(context);
      out.setName("out");
      out.setEncoder(encoder);
      out.start();
      var root = context.getLogger(Logger.ROOT_LOGGER_NAME);
      root.setLevel(Level.toLevel(setting(LEVEL), Level.INFO));
      root.addAppender(out);
      return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static JsonEncoder json() {
      var json = new JsonEncoder();
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithMDC(false);
      json.setWithMessage(false);
      json.setWithArguments(false);
      json.setWithFormattedMessage(true);
      return json;
    }
  }

  /**
   * What the pattern {@code %d{HH:mm:ss.SSS} %-5level %msg%n} printed, with the stack trace of an
   * exception after it as PatternLayout adds one; written out, because compiling a pattern costs
   * logback's pattern parser and its converters, a hundred classes more.
   */
  static final class TextEncoder extends EncoderBase<ILoggingEvent> {
    private final ZoneId zone = ZoneId.systemDefault();

    @Override
    public byte @Nullable [] headerBytes() {
      return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
      var time = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), zone);
      var line = new StringBuilder(80);
      two(line, time.getHour()).append(':');
      two(line, time.getMinute()).append(':');
      two(line, time.getSecond()).append('.');
      int millis = time.getNano() / 1_000_000;
      line.append((char) ('0' + millis / 100))
          .append((char) ('0' + millis / 10 % 10))
          .append((char) ('0' + millis % 10));
      var level = event.getLevel().toString();
      line.append(' ').append(level);
      line.repeat(' ', Math.max(0, 5 - level.length()));
      line.append(' ').append(event.getFormattedMessage()).append(System.lineSeparator());
      if (event.getThrowableProxy() != null) {
        line.append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
      return line.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static StringBuilder two(StringBuilder line, int n) {
      return line.append((char) ('0' + n / 10)).append((char) ('0' + n % 10));
    }

    @Override
    public byte @Nullable [] footerBytes() {
      return null;
    }
  }
}
