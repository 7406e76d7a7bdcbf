package dev.baton.examples;

import dev.baton.app.Listeners;
import dev.baton.app.jetty.JettyListeners;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

/** A Jetty 12 app under baton: {@code java -cp ... dev.baton.examples.JettyExample [port]}. */
public final class JettyExample {
  private JettyExample() {}

  public static void main(String[] args) throws Exception {
    Listeners listeners = Listeners.adoptOr(Reply.fallback(args));
    Server server = new Server();
    JettyListeners jetty = JettyListeners.addTo(server, listeners);
    server.setHandler(new Answer());
    server.start();
    UnderBaton.serve(
        jetty,
        listeners,
        () -> {
          jetty.drain(Reply.DRAIN).join();
          server.stop();
        });
  }

  private static final class Answer extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Reply reply = Reply.to(request.getMethod(), Request.getPathInContext(request));
      response.setStatus(reply.status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
      response.write(
          true, ByteBuffer.wrap(reply.body.getBytes(StandardCharsets.US_ASCII)), callback);
      return true;
    }
  }
}
