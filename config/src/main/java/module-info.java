/** baton.toml: the service's configuration, read, checked and typed, with its units of time. */
module dev.baton.config {
  requires static org.jspecify;
  requires dev.baton.os;
  requires tools.jackson.core;
  requires tools.jackson.databind;
  requires tools.jackson.dataformat.toml;

  exports dev.baton.config;

  // Jackson binds the config's records by reflection.
  opens dev.baton.config to
      tools.jackson.databind;
}
