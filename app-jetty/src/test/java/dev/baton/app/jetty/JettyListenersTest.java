package dev.baton.app.jetty;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.test.HttpAdapterContract;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

class JettyListenersTest extends HttpAdapterContract {
  private final Server server = new Server();
  private JettyListeners jetty;

  @Override
  protected Baton.Acceptor start(Listeners listeners) throws Exception {
    jetty = JettyListeners.addTo(server, listeners);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            response.write(
                true, ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)), callback);
            return true;
          }
        });
    server.start();
    return jetty;
  }

  @Override
  protected void stop() throws Exception {
    server.stop();
  }

  @Override
  protected CompletableFuture<Void> drain(Duration timeout) {
    return jetty.drain(timeout);
  }
}
