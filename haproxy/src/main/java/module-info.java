/** Fleet rollouts behind HAProxy, through its Runtime API, and the config baton writes for it. */
module dev.baton.haproxy {
  requires static org.jspecify;
  requires dev.baton.config;
  requires dev.baton.protocol;
  requires java.net.http;

  exports dev.baton.haproxy;
}
