package dev.baton.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.LoggerFactory;

/**
 * The supervisor's own log, as logback.xml sets it up: text lines, or JSON lines when {@code
 * BATON_LOG_FORMAT=json}. {@code [logs] json} in the config asks for JSON too, but the config is
 * read after logging started, so that choice is applied by configuring logback again.
 */
final class SupervisorLog {
  private static final String FORMAT = "BATON_LOG_FORMAT";

  private SupervisorLog() {}

  static void useJson() {
    if ("json".equals(System.getProperty(FORMAT, System.getenv(FORMAT)))) {
      return;
    }
    // A system property, not the environment: it reaches logback, never the generations.
    System.setProperty(FORMAT, "json");
    var context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    try {
      new ContextInitializer(context).autoConfig();
    } catch (JoranException e) {
      System.err.println("baton: cannot switch the log to JSON: " + e.getMessage() + "; logging as text");
    }
  }
}
