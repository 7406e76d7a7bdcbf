/**
 * The supervisor: one event loop that owns the listeners, spawns and promotes generations, drains
 * or parks the old, and answers the control socket, the remote API and HAProxy's agent-check.
 */
module dev.baton.supervisor {
  requires static org.jspecify;
  requires dev.baton.app;
  requires dev.baton.config;
  requires dev.baton.os;
  requires dev.baton.protocol;
  requires java.net.http;
  requires org.slf4j;
  requires tools.jackson.core;

  exports dev.baton.supervisor;
}
