/** baton.toml: the service's configuration, read, checked and typed, with its units of time. */
module dev.baton.config {
  requires static org.jspecify;
  requires dev.baton.os;

  exports dev.baton.config;
}
