/** The sample service: a small HTTP/1.1 server that says which generation answered. */
module dev.baton.sample {
  requires static org.jspecify;
  requires dev.baton.app;
}
