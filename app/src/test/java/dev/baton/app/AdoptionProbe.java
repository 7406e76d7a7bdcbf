package dev.baton.app;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A minimal app for {@link AdoptionTest}: adopts its listeners, greets one connection on each,
 * stops accepting, and shows that stdout still works after that.
 */
public final class AdoptionProbe {
  private AdoptionProbe() {}

  public static void main(String[] args) throws Exception {
    try (Listeners listeners = Listeners.adopt()) {
      System.out.println("adopted " + listeners + " on java " + Runtime.version().feature());
      for (Listener listener : listeners.all()) {
        try (SocketChannel connection = listener.channel().accept()) {
          connection.write(
              ByteBuffer.wrap(
                  ("hello " + listener.name() + "\n").getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
    System.out.println("closed the listeners, stdout still works");
  }
}
