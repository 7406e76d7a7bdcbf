package dev.baton.app.tomcat;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.test.HttpAdapterContract;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.io.TempDir;

class TomcatListenersTest extends HttpAdapterContract {
  @TempDir Path dir;
  private final Tomcat tomcat = new Tomcat();
  private TomcatListeners connectors;

  @Override
  protected Baton.Acceptor start(Listeners listeners) throws Exception {
    tomcat.setBaseDir(dir.toString());
    var context = tomcat.addContext("", null);
    Tomcat.addServlet(
        context,
        "ok",
        new HttpServlet() {
          @Override
          protected void doGet(HttpServletRequest request, HttpServletResponse response)
              throws IOException {
            response.getWriter().print("ok\n");
          }
        });
    context.addServletMappingDecoded("/*", "ok", /* jspWildCard= */ false);
    connectors = TomcatListeners.create(listeners);
    connectors.connectors().forEach(tomcat.getService()::addConnector);
    tomcat.start();
    return connectors;
  }

  @Override
  protected void stop() throws Exception {
    tomcat.stop();
    tomcat.destroy();
  }

  @Override
  protected CompletableFuture<Void> drain(Duration timeout) {
    return connectors.drain(timeout);
  }
}
