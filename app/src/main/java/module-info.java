/**
 * baton's in-app library for JVM servers: adopt the listeners the supervisor hands over.
 *
 * <p>Adopting listeners at fds 3 and up needs {@code --add-opens java.base/sun.nio.ch=dev.baton.app}
 * on the module path ({@code =ALL-UNNAMED} on the class path).
 */
module dev.baton.app {
  exports dev.baton.app;
}
