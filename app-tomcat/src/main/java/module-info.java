/**
 * baton-app's adapter for embedded Tomcat: the handed-over listeners as connectors that pause
 * safely.
 */
module dev.baton.app.tomcat {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive org.apache.tomcat.embed.core;

  exports dev.baton.app.tomcat;
}
