package dev.baton.examples;

import dev.baton.app.Baton;
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
    Baton baton = Baton.connect(jetty);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  jetty.drain(Reply.DRAIN).join();
                  try {
                    server.stop();
                  } catch (Exception e) {
                    System.err.println("jetty-example: stopping Jetty failed: " + e);
                  }
                  baton.close();
                  Reply.log("drained; exiting");
                  // 0 rather than the 143 of a SIGTERM'd JVM: the drain was asked for and done.
                  Runtime.getRuntime().halt(0);
                },
                "drain"));
    if (!baton.startPaused()) {
      jetty.resume();
    }
    baton.ready();
    Reply.log("serving on " + listeners);
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
