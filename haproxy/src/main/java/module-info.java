/** Fleet rollouts behind HAProxy, through its Runtime API, and the config baton writes for it. */
module dev.baton.haproxy {
  requires static org.jspecify;
  requires dev.baton.config;
  requires dev.baton.protocol;
  requires java.net.http;
  requires tools.jackson.core;
  requires tools.jackson.databind;
  requires tools.jackson.dataformat.toml;

  exports dev.baton.haproxy;

  opens dev.baton.haproxy to
      tools.jackson.databind;
}
