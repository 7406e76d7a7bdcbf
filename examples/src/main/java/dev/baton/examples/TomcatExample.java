package dev.baton.examples;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.tomcat.TomcatListeners;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

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
    connectors.connectors().forEach(tomcat.getService()::addConnector);
    tomcat.start();
    Baton baton = Baton.connect(connectors);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  connectors.drain(Reply.DRAIN).join();
                  try {
                    tomcat.stop();
                    tomcat.destroy();
                    deleteTree(Path.of(tomcat.getServer().getCatalinaBase().getPath()));
                  } catch (Exception e) {
                    System.err.println("tomcat-example: stopping Tomcat failed: " + e);
                  }
                  baton.close();
                  Reply.log("drained; exiting");
                  // 0 rather than the 143 of a SIGTERM'd JVM: the drain was asked for and done.
                  Runtime.getRuntime().halt(0);
                },
                "drain"));
    if (!baton.startPaused()) {
      connectors.resume();
    }
    baton.ready();
    Reply.log("serving on " + listeners);
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
