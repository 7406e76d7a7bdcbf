/**
 * baton's in-app library for JVM servers: adopt the listeners the supervisor hands over ({@link
 * dev.baton.app.Listeners}), report readiness and obey pause and resume over BATON_CONTROL ({@link
 * dev.baton.app.Baton}), and accept with plain NIO so that a pause really stops accepting ({@link
 * dev.baton.app.NioAcceptor}). The words of BATON_CONTROL are here too ({@link
 * dev.baton.app.ControlWord}), for the supervisor's end to use as well, and the loop with which an
 * adapter closes kept-alive connections once idle, while paused or draining ({@link
 * dev.baton.app.IdleCloser}).
 *
 * <p>Adopting listeners at fds 3 and up needs {@code --add-opens
 * java.base/sun.nio.ch=dev.baton.app} on the module path ({@code =ALL-UNNAMED} on the class path).
 */
module dev.baton.app {
  requires static org.jspecify;

  exports dev.baton.app;
}
