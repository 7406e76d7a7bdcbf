/** baton.toml: the service's configuration, read, checked and typed, with its units of time. */
module dev.baton.config {
  requires static org.jspecify;
  requires dev.baton.os;
  // TOML through its streaming parser only: no databind mapper (TomlTree says why).
  requires tools.jackson.core;
  requires tools.jackson.dataformat.toml;

  exports dev.baton.config;
}
