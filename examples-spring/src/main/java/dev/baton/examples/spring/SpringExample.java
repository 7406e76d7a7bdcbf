package dev.baton.examples.spring;

import dev.baton.app.Listeners;
import dev.baton.app.tomcat.TomcatListeners;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot web app under baton: {@code java -cp 'examples-spring/target/lib/*'
 * dev.baton.examples.spring.SpringExample [--server.port=8080]}. Boot configures it as usual
 * (spring-boot-starter-web on its own Tomcat); baton-app-tomcat's connectors, one per handed-over
 * listener, take the place of the one Boot makes on {@code server.port}.
 */
@SpringBootApplication
public class SpringExample {

  public static void main(String[] args) {
    SpringApplication.run(SpringExample.class, args);
  }

  /** baton's listeners, or outside baton one bound on loopback at {@code server.port}. */
  @Bean
  TomcatListeners batonListeners(@Value("${server.port:8080}") int port) throws IOException {
    return TomcatListeners.create(
        Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
  }

  /** Replaces Boot's own factory; Boot's customizers still apply {@code server.*} to it. */
  @Bean
  TomcatServletWebServerFactory tomcatFactory(TomcatListeners listeners) {
    return new OnBatonListeners(listeners);
  }

  /**
   * Boot's Tomcat with baton's connectors instead of its own. Its own would bind {@code
   * server.port} in every generation, and a new generation cannot bind it while the old one still
   * holds it. Boot applies its settings ({@code server.tomcat.*}, compression, the connector
   * customizers) to its own connector only, so they are applied here to baton's.
   */
  static final class OnBatonListeners extends TomcatServletWebServerFactory {
    private final TomcatListeners listeners;

    OnBatonListeners(TomcatListeners listeners) {
      this.listeners = listeners;
      addAdditionalConnectors(listeners.connectors().toArray(new Connector[0]));
    }

    @Override
    protected TomcatWebServer getTomcatWebServer(Tomcat tomcat) {
      // Not started yet, so nothing is bound: removing it is all it takes.
      tomcat.getService().removeConnector(tomcat.getConnector());
      for (Connector connector : listeners.connectors()) {
        // The port names the connector and its threads; Boot's would be server.port for each.
        int port = connector.getPort();
        customizeConnector(connector);
        connector.setPort(port);
      }
      return super.getTomcatWebServer(tomcat);
    }
  }
}
