package dev.baton.supervisor;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers HAProxy's agent-check for this host ({@code agent-check agent-addr A agent-port P} on
 * the server line). HAProxy connects every {@code agent-inter}, reads one line and applies it.
 *
 * <p>The answers, and why:
 *
 * <ul>
 *   <li>{@code drain} while a deploy is in progress, or while no generation is active (starting,
 *       crash-looping, stopping): HAProxy then sends this server no new requests.
 *   <li>{@code ready} once, to each HAProxy that heard {@code drain} from us, once the deploy is
 *       over: it undoes our own drain, and nothing else.
 *   <li>{@code up} otherwise. Unlike {@code ready}, {@code up} leaves the administrative state
 *       alone: an agent that answered {@code ready} on every poll would cancel, within one {@code
 *       agent-inter}, a drain an operator or {@code baton rollout} set on the stats socket (HAProxy
 *       2.6: {@code ready} clears both the agent's and the CLI's drain flag; measured).
 * </ul>
 *
 * <p>{@code [agent] weight} is sent as a percentage of the weight in haproxy.cfg, and only when it
 * is not 100: a percentage, too, replaces whatever {@code set weight} said, the canary weight of a
 * rollout included, on every poll.
 */
public final class AgentCheck implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AgentCheck.class);

  /** How long to read what HAProxy may send first (agent-send) before closing. */
  private static final Duration LINGER = Duration.ofSeconds(1);

  private final Supervisor supervisor;
  private final ServerSocketChannel channel;
  private final Answers answers;

  private AgentCheck(Supervisor supervisor, ServerSocketChannel channel, int weight) {
    this.supervisor = supervisor;
    this.channel = channel;
    this.answers = new Answers(weight);
  }

  /**
   * Binds {@code [agent] address}; answers nothing until {@link #start()}.
   *
   * @throws StartException when the address cannot be bound
   */
  public static AgentCheck bind(Supervisor supervisor) {
    var config = supervisor.config();
    var agent = config.agent().orElseThrow(() -> new IllegalStateException(config.file() + " has no [agent] table"));
    try {
      var channel = ServerSocketChannel.open();
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      try {
        channel.bind(agent.address(), 64);
      } catch (IOException e) {
        channel.close();
        throw e;
      }
      return new AgentCheck(supervisor, channel, agent.weight());
    } catch (BindException e) {
      throw new StartException("the agent-check responder cannot bind " + agent.address() + ": " + e.getMessage()
          + "; stop whatever holds it or change [agent] address in " + config.file());
    } catch (IOException e) {
      throw new StartException("the agent-check responder cannot listen on " + agent.address() + ": " + e.getMessage());
    }
  }

  public void start() {
    Thread.ofPlatform().daemon().name("agent-check").start(this::acceptLoop);
    LOG.info("agent-check responder on {}", address());
  }

  public InetSocketAddress address() {
    try {
      return (InetSocketAddress) channel.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers take no time: there is nothing to wait for. */
  public CompletableFuture<Void> drain(Duration grace) {
    close();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing the agent-check responder: {}", e.toString());
    }
  }

  private void acceptLoop() {
    while (channel.isOpen()) {
      try {
        var connection = channel.accept();
        Thread.startVirtualThread(() -> answer(connection));
      } catch (IOException e) {
        if (channel.isOpen()) {
          LOG.warn("agent-check accept failed: {}", e.toString());
        }
      }
    }
  }

  private void answer(SocketChannel connection) {
    try (connection) {
      var peer = ((InetSocketAddress) connection.getRemoteAddress()).getAddress();
      var status = supervisor.status();
      var line = answers.next(peer, status.deploying() || status.activeGeneration().isEmpty());
      connection.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
      connection.shutdownOutput();
      // Read what HAProxy sent (agent-send) until it closes: closing with unread bytes would send
      // a reset, which can destroy the answer before HAProxy reads it.
      connection.socket().setSoTimeout((int) LINGER.toMillis());
      var in = connection.socket().getInputStream();
      while (in.read(new byte[256]) >= 0) {
        // discard
      }
    } catch (IOException e) {
      LOG.debug("agent-check connection ended: {}", e.toString());
    }
  }

  /**
   * The answer to each poll. Remembers which HAProxy hosts heard "drain", so that each of them,
   * and only each of them, hears "ready" once afterwards.
   */
  static final class Answers {
    private final int weight;
    // Guarded by this.
    private final Set<InetAddress> drained = new HashSet<>();

    Answers(int weight) {
      this.weight = weight;
    }

    synchronized String next(InetAddress peer, boolean drain) {
      if (drain) {
        drained.add(peer);
        return "drain\n";
      }
      var word = drained.remove(peer) ? "ready" : "up";
      return weight == 100 ? word + "\n" : word + " " + weight + "%\n";
    }
  }
}
