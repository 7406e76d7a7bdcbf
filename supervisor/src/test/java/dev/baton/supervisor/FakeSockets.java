package dev.baton.supervisor;

import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.NotifyMessage;
import dev.baton.os.NotifySocket;
import dev.baton.os.PeerCredentials;
import dev.baton.os.Poller;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The sockets of {@link FakeOs}: listeners, Unix stream connections that work, the notify socket.
 */
final class FakeSockets {
  private FakeSockets() {}

  /** A bound listening socket the generations share; {@code local} is null for a Unix one. */
  static final class ListenSocket extends FakeFile {
    final int inode;
    final ListenAddress address;
    final InetSocketAddress local;

    ListenSocket(FakeOs os, int inode, ListenAddress address, InetSocketAddress local) {
      super(os);
      this.inode = inode;
      this.address = address;
      this.local = local;
    }

    @Override
    int readiness() {
      return 0;
    }

    @Override
    String link() {
      return "socket:[" + inode + "]";
    }
  }

  /** A Unix stream listener: connections queue until acceptNow() takes them. */
  static final class Listener extends FakeFile implements UnixListener {
    final Path path;
    final int mode;
    private final Fd fd;
    private final ArrayDeque<Connection> pending = new ArrayDeque<>();
    private boolean closed;

    /**
     * Thrown by the next acceptNow(), as accept4 fails with EMFILE when the process is out of
     * descriptors.
     */
    Optional<NativeException> failNextAccept = Optional.empty();

    Listener(FakeOs os, Path path, int mode) {
      super(os);
      this.path = path;
      this.mode = mode;
      this.fd = os.open(this);
    }

    void queue(Connection serverEnd) {
      pending.addLast(serverEnd);
      touch();
    }

    @Override
    public Path path() {
      return path;
    }

    @Override
    public Optional<UnixConnection> accept() {
      throw new UnsupportedOperationException(
          "the supervisor accepts on its loop, with acceptNow()");
    }

    @Override
    public Fd fd() {
      return fd;
    }

    @Override
    public Optional<UnixConnection> acceptNow() {
      if (closed) {
        throw new NativeException("accept4(" + fd + ")", 9, "EBADF", "Bad file descriptor");
      }
      if (failNextAccept.isPresent()) {
        var e = failNextAccept.get();
        failNextAccept = Optional.empty();
        throw e;
      }
      var next = pending.pollFirst();
      if (next == null) {
        return Optional.empty();
      }
      next.fd = os.open(next);
      return Optional.of(next);
    }

    boolean isClosed() {
      return closed;
    }

    @Override
    public void close() {
      if (!closed) {
        os.close(fd);
      }
    }

    @Override
    void lastClose() {
      closed = true;
      os.unixListeners.remove(path);
      pending.forEach(Connection::hangUp);
      pending.clear();
    }

    @Override
    int readiness() {
      return !closed && !pending.isEmpty() ? Poller.READABLE : 0;
    }

    @Override
    String link() {
      return "socket:[" + path + "]";
    }
  }

  /**
   * One end of a connected Unix stream socket. Bytes written on one end are read on the other; a
   * closed end reads as ended and refuses writes with EPIPE. The test's end also reads in lines.
   */
  static final class Connection extends FakeFile implements UnixConnection {
    Connection peer;
    private final PeerCredentials peerCredentials;
    private final Bytes in = new Bytes();
    private final StringBuilder partial = new StringBuilder();
    private final List<String> lines = new ArrayList<>();
    private int taken;
    private boolean closed;
    Fd fd;

    /** How many bytes may wait in this end before its peer's writeNow() takes no more. */
    int capacity = Integer.MAX_VALUE;

    private Connection(FakeOs os, PeerCredentials peerCredentials) {
      super(os);
      this.peerCredentials = peerCredentials;
    }

    /** A connected pair; returns the client's end, whose {@link #peer} is the server's. */
    static Connection pair(FakeOs os, PeerCredentials client, PeerCredentials server) {
      var clientEnd = new Connection(os, server);
      var serverEnd = new Connection(os, client);
      clientEnd.peer = serverEnd;
      serverEnd.peer = clientEnd;
      clientEnd.fd = os.foreignFd();
      return clientEnd;
    }

    @Override
    public PeerCredentials peer() {
      return peerCredentials;
    }

    @Override
    public Fd fd() {
      return fd;
    }

    @Override
    public int readNow(byte[] buffer, int offset, int length) {
      if (closed) {
        throw new NativeException("recvmsg(" + fd + ")", 9, "EBADF", "Bad file descriptor");
      }
      int n = in.take(buffer, offset, length);
      if (n > 0) {
        return n;
      }
      return peer.closed ? -1 : 0;
    }

    @Override
    public int writeNow(byte[] buffer, int offset, int length) {
      if (closed) {
        throw new NativeException("sendmsg(" + fd + ")", 9, "EBADF", "Bad file descriptor");
      }
      if (peer.closed) {
        throw new NativeException("sendmsg(" + fd + ")", 32, "EPIPE", "Broken pipe");
      }
      int n = (int) Math.min(length, (long) peer.capacity - peer.in.size());
      if (n > 0) {
        peer.in.add(buffer, offset, n);
        peer.touch();
      }
      return n;
    }

    @Override
    public InputStream input() {
      throw new UnsupportedOperationException("the supervisor reads with readNow()");
    }

    @Override
    public OutputStream output() {
      throw new UnsupportedOperationException("the supervisor writes with writeNow()");
    }

    @Override
    public void send(byte[] data, List<Fd> fds) {
      throw new UnsupportedOperationException("no descriptors are passed in these tests");
    }

    @Override
    public Received receive(byte[] buffer) {
      throw new UnsupportedOperationException("no descriptors are passed in these tests");
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      if (fd != null && os.file(fd) == this) {
        os.close(fd);
      } else {
        hangUp();
      }
    }

    @Override
    void lastClose() {
      hangUp();
    }

    /** This end is closed: its peer reads the end of the stream. */
    void hangUp() {
      if (!closed) {
        closed = true;
        in.clear();
        peer.touch();
      }
    }

    boolean isClosed() {
      return closed;
    }

    @Override
    int readiness() {
      if (closed) {
        return 0;
      }
      int ready = in.size() > 0 || peer.closed ? Poller.READABLE : 0;
      if (peer.closed || peer.in.size() < peer.capacity) {
        ready |= Poller.WRITABLE;
      }
      return ready;
    }

    @Override
    String link() {
      return "socket:[" + System.identityHashCode(this) + "]";
    }

    // The test's side

    /** Writes {@code line} and a newline, all of it. */
    void send(String line) {
      sendRaw(line + "\n");
    }

    void sendRaw(String text) {
      var bytes = text.getBytes(StandardCharsets.UTF_8);
      int n = writeNow(bytes, 0, bytes.length);
      if (n != bytes.length) {
        throw new AssertionError(
            "the supervisor's end took " + n + " of " + bytes.length + " bytes");
      }
    }

    /** Every whole line received so far, without newlines. */
    List<String> lines() {
      readAvailable();
      return List.copyOf(lines);
    }

    /** The lines received since the last call. */
    List<String> newLines() {
      readAvailable();
      var fresh = List.copyOf(lines.subList(taken, lines.size()));
      taken = lines.size();
      return fresh;
    }

    /** Whether the other end has closed and everything it sent has been read. */
    boolean isClosedByPeer() {
      readAvailable();
      return peer.closed && in.size() == 0;
    }

    private void readAvailable() {
      if (closed) {
        return;
      }
      var buffer = new byte[4096];
      for (int n = in.take(buffer, 0, buffer.length);
          n > 0;
          n = in.take(buffer, 0, buffer.length)) {
        partial.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
      }
      for (int nl = partial.indexOf("\n"); nl >= 0; nl = partial.indexOf("\n")) {
        lines.add(partial.substring(0, nl));
        partial.delete(0, nl + 1);
      }
    }
  }

  /** The supervisor's NOTIFY_SOCKET: datagrams queue until receiveNow() takes them. */
  static final class Notify extends FakeFile implements NotifySocket {
    private final Path path;
    private final Fd fd;
    private final ArrayDeque<NotifyMessage> queue = new ArrayDeque<>();
    private boolean closed;

    Notify(FakeOs os, Path path) {
      super(os);
      this.path = path;
      this.fd = os.open(this);
    }

    void deliver(NotifyMessage message) {
      queue.addLast(message);
      touch();
    }

    @Override
    public Path path() {
      return path;
    }

    @Override
    public Optional<NotifyMessage> receive() {
      throw new UnsupportedOperationException(
          "the supervisor receives on its loop, with receiveNow()");
    }

    @Override
    public Fd fd() {
      return fd;
    }

    @Override
    public Optional<NotifyMessage> receiveNow() {
      return Optional.ofNullable(queue.pollFirst());
    }

    @Override
    public void close() {
      if (!closed) {
        os.close(fd);
      }
    }

    @Override
    void lastClose() {
      closed = true;
      queue.clear();
      os.notifySockets.remove(path.toString());
    }

    @Override
    int readiness() {
      return !queue.isEmpty() ? Poller.READABLE : 0;
    }

    @Override
    String link() {
      return "socket:[" + path + "]";
    }
  }
}
