/** The baton command line: one picocli command per verb. */
module dev.baton.cli {
  requires static org.jspecify;
  requires dev.baton.bench;
  requires dev.baton.config;
  requires dev.baton.haproxy;
  requires dev.baton.os;
  requires dev.baton.protocol;
  requires dev.baton.supervisor;
  requires ch.qos.logback.classic;
  requires ch.qos.logback.core;
  requires info.picocli;
  // sun.misc.Signal: SIGHUP reopens the log file, as logrotate expects.
  requires jdk.unsupported;
  requires org.slf4j;
  requires tools.jackson.databind;

  // picocli reads the commands' annotated fields by reflection.
  opens dev.baton.cli to
      info.picocli;
}
