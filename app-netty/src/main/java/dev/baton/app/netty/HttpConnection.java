package dev.baton.app.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 connection of a listener that can be paused, followed just after Netty's HTTP codec,
 * where requests come in decoded and answers go out not yet encoded: it knows whether a request is
 * waiting for its answer, and since when the connection has been quiet. While {@link
 * KeptAliveRelease#releasing()}, each answer says {@code Connection: close} and the connection
 * closes once it is written; and {@link #closeIfIdle} closes it once quiet for long enough.
 *
 * <p>Only {@link KeptAliveRelease} loads this class, and only when netty-codec-http is there.
 */
final class HttpConnection extends ChannelDuplexHandler {

  /** {@link #quietSince} while a request waits for its answer. */
  private static final long BUSY = Long.MAX_VALUE;

  private final Channel channel;
  private final KeptAliveRelease release;

  /** Requests read whose answer is not written yet; on the event loop only. */
  private int unanswered;

  /**
   * When bytes last came in or the last answer was written, in {@link System#nanoTime()}, or {@link
   * #BUSY}. Written on the event loop; read by the release's thread too.
   */
  private volatile long quietSince = System.nanoTime();

  /** The answer being written says Connection: close, so the connection closes after it. */
  private boolean closeAfterAnswer;

  /** The answer being written is an interim one (100 Continue): its end is not an answer's. */
  private boolean interim;

  private final ChannelFutureListener answered =
      future -> {
        unanswered = Math.max(0, unanswered - 1);
        if (unanswered == 0) {
          quietSince = System.nanoTime();
        }
      };

  private HttpConnection(Channel channel, KeptAliveRelease release) {
    this.channel = channel;
    this.release = release;
  }

  /**
   * Follows the channel if its pipeline has Netty's HTTP server codec: placed after the last of its
   * handlers, so that it sees requests decoded and answers before they are encoded.
   */
  static void follow(Channel channel, KeptAliveRelease release) {
    ChannelPipeline pipeline = channel.pipeline();
    @Nullable String codec = null;
    for (Map.Entry<String, ChannelHandler> entry : pipeline) {
      ChannelHandler handler = entry.getValue();
      if (handler instanceof HttpServerCodec
          || handler instanceof HttpRequestDecoder
          || handler instanceof HttpResponseEncoder) {
        codec = entry.getKey();
      }
    }
    if (codec != null) {
      HttpConnection connection = new HttpConnection(channel, release);
      pipeline.addAfter(codec, "baton-kept-alive-release", connection);
      release.add(connection);
      channel.closeFuture().addListener(future -> release.remove(connection));
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (message instanceof HttpRequest) {
      unanswered++;
      quietSince = BUSY;
    }
    context.fireChannelRead(message);
  }

  /** After every read from the socket, even of bytes that make no whole request yet. */
  @Override
  public void channelReadComplete(ChannelHandlerContext context) {
    if (unanswered == 0) {
      quietSince = System.nanoTime();
    }
    context.fireChannelReadComplete();
  }

  @Override
  public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
    if (message instanceof HttpResponse response) {
      interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
      if (!interim && release.releasing() && HttpUtil.isKeepAlive(response)) {
        HttpUtil.setKeepAlive(response, false);
        closeAfterAnswer = true;
      }
    }
    ChannelPromise written = promise;
    if (message instanceof LastHttpContent) {
      if (interim) {
        interim = false;
      } else {
        written = promise.unvoid().addListener(answered);
        if (closeAfterAnswer) {
          closeAfterAnswer = false;
          written.addListener(ChannelFutureListener.CLOSE);
        }
      }
    }
    // The outcome is the promise's, which the caller has.
    ChannelFuture unused = context.write(message, written);
  }

  /**
   * Closes the connection if it has been quiet for {@code idleNanos}, with no request waiting for
   * its answer; checked again on the event loop, where reads and writes happen.
   */
  void closeIfIdle(long now, long idleNanos) {
    if (isIdle(now, idleNanos)) {
      channel
          .eventLoop()
          .execute(
              () -> {
                if (release.releasing() && isIdle(System.nanoTime(), idleNanos)) {
                  // Nothing to do if it fails: the connection is gone either way.
                  ChannelFuture unused = channel.close();
                }
              });
    }
  }

  private boolean isIdle(long now, long idleNanos) {
    long since = quietSince;
    return since != BUSY && now - since >= idleNanos;
  }
}
