package dev.baton.examples;

import dev.baton.app.Listeners;
import dev.baton.app.tomcat.TomcatListeners;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http11.Http11NioProtocol;

/**
 * An embedded Tomcat app under baton: {@code java -cp ... dev.baton.examples.TomcatExample [port]}.
 */
public final class TomcatExample {
  private TomcatExample() {}

  public static void main(String[] args) throws Exception {
    Listeners listeners = Listeners.adoptOr(Reply.fallback(args));
    Tomcat tomcat = new Tomcat();
    // Tomcat's work directory; nothing is deployed from it.
    tomcat.setBaseDir(Files.createTempDirectory("tomcat-example").toString());
    Context context = tomcat.addContext("", null);
    Tomcat.addServlet(context, "answer", new Answer());
    context.addServletMappingDecoded("/", "answer", /* jspWildCard= */ false);
    TomcatListeners connectors = TomcatListeners.create(listeners);
    for (Connector connector : connectors.connectors()) {
      // As many requests per kept-alive connection as its client likes, as Jetty and Netty allow:
      // Tomcat's default of 100 lets go of a connection by itself, which would hide from the tests
      // whether a pause lets go of it.
      ((Http11NioProtocol) connector.getProtocolHandler()).setMaxKeepAliveRequests(-1);
      tomcat.getService().addConnector(connector);
    }
    tomcat.start();
    UnderBaton.serve(
        connectors,
        listeners,
        () -> {
          connectors.drain(Reply.DRAIN).join();
          tomcat.stop();
          tomcat.destroy();
          deleteTree(Path.of(tomcat.getServer().getCatalinaBase().getPath()));
        });
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private static final class Answer extends HttpServlet {
    private static final long serialVersionUID = 1;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      Reply reply = Reply.to(request.getMethod(), request.getRequestURI());
      response.setStatus(reply.status);
      response.setContentType("text/plain");
      response.getWriter().print(reply.body);
    }
  }
}
