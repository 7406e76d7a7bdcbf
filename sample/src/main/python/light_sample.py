"""The light sample: the sample service's HTTP behaviour in a process that starts in milliseconds.

A JVM takes a few hundred milliseconds of CPU to start, and on two cores that CPU comes out of the
load being measured. This sample starts in about 20 ms (python3 -S), so a bench run with it shows
what replacing an app costs when start-up costs nearly nothing.

usage: light_sample.py [--port=N] [--reuse-port] [--work=DURATION] [--idle-close=DURATION]
                       [--drain-timeout=DURATION] [--sloppy-drain]
  the same options, defaults and DURATIONs (500, 500ms, 2s, 1m) as the JVM sample's, and
  --sloppy-drain, which the JVM sample has not: on SIGTERM, drop everything and exit at once

It adopts the listeners systemd-style (LISTEN_FDS and LISTEN_FDNAMES, when LISTEN_PID is this
process), or binds 127.0.0.1:PORT itself, with SO_REUSEPORT when asked, once it is ready. It serves
every listener, the supervisor's private probe listener too, answering "generation N pid P", and
/healthz with "ok". It prints "... listening on ADDRESS" and sends READY=1 to NOTIFY_SOCKET.

On SIGTERM it drains: it stops accepting and closes its copies of the listeners, answers each
request it has with "Connection: close", closes a kept-alive connection only once it has been idle
for --idle-close (closing one that is idle this instant would race a request on its way), and
exits 0 when no connection is left.

--work=DURATION makes each request (but /healthz) wait that long for its answer, as the JVM sample's
--work does, but without blocking the loop: the answer is held on a timer while other connections
are served, so that many requests are in flight at once. A connection's next pipelined request is
read only once the answer before it has been released.

--sloppy-drain is the worst drain there is, that of a server that trusts the signal to mean "no
more traffic": on SIGTERM it closes every connection it holds without answering it (one whose
request it has accepted and not yet answered too), closes its listeners and exits 0 at once. The
tests use it to show what a handoff leaves for the old generation to drop.

One thread and an epoll loop, standard library only: it must not need a virtualenv to start.
"""
import errno
import heapq
import os
import selectors
import signal
import socket
import sys
import time

MAX_HEAD = 16 * 1024
LINGER_SECONDS = 2.0
SWEEP_SECONDS = 0.05
GENERATION = os.environ.get("BATON_GENERATION", "0")
IDENTITY = "generation %s pid %d" % (GENERATION, os.getpid())


def seconds(text):
    """A DURATION as the JVM sample reads it: 500, 500ms, 2s or 1m; a bare number is milliseconds."""
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("", 0.001)):
        if text.endswith(suffix) and text[:len(text) - len(suffix)].isdigit():
            return int(text[:len(text) - len(suffix)]) * scale
    raise ValueError(text)


def parse_args(argv):
    options = {"port": 8080, "reuse-port": False, "work": 0.0, "idle-close": 2.0, "drain-timeout": 30.0,
               "sloppy-drain": False}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        key = name[2:] if name.startswith("--") else None
        if key not in options:
            sys.exit("light_sample: unknown argument %s\n%s" % (argv[i], __doc__.split("\n\n")[2]))
        if key in ("reuse-port", "sloppy-drain"):
            if eq:
                sys.exit("light_sample: --%s takes no value" % key)
            options[key] = True
        else:
            if not eq:
                i += 1
                if i == len(argv):
                    sys.exit("light_sample: --%s needs a value" % key)
                value = argv[i]
            try:
                options[key] = int(value) if key == "port" else seconds(value)
            except ValueError:
                sys.exit("light_sample: --%s=%s is not %s" % (key, value, "a port" if key == "port" else "a DURATION"))
        i += 1
    return options


def adopt():
    """The listeners handed over as LISTEN_FDS, with their names; none when not meant for us."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    count = int(os.environ.get("LISTEN_FDS", "0"))
    names = os.environ.get("LISTEN_FDNAMES", "").split(":")
    adopted = []
    for i in range(count):
        sock = socket.socket(fileno=3 + i)
        sock.setblocking(False)
        adopted.append((names[i] if i < len(names) and names[i] else "fd %d" % (3 + i), sock))
    return adopted


def bind(port, reuse_port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        sys.exit("light_sample: cannot bind 127.0.0.1:%d: %s; give it a free port" % (port, e.strerror))
    sock.listen(1024)
    sock.setblocking(False)
    return [("http", sock)]


def notify(message):
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


def describe(sock):
    address = sock.getsockname()
    return "%s:%d" % address[:2] if isinstance(address, tuple) else "unix:" + str(address)


class Connection:
    """One client connection: the bytes read and not yet answered, and the answers not yet sent.

    With --work, the request being worked on waits in held, its answer due at the monotonic time due
    (0 when nothing is held).
    """

    __slots__ = ("sock", "inbox", "outbox", "last_active", "closing", "lingering", "held", "due")

    def __init__(self, sock, now):
        self.sock = sock
        self.inbox = b""
        self.outbox = b""
        self.last_active = now
        self.closing = False
        self.lingering = 0.0
        self.held = None
        self.due = 0.0


class Server:
    def __init__(self, listeners, options):
        self.listeners = listeners
        self.options = options
        self.selector = selectors.DefaultSelector()
        self.connections = {}
        self.draining = False
        self.drain_asked = False
        self.lingering = 0
        self.next_sweep = 0.0
        # (due, sequence, connection) of the answers held by --work; the sequence breaks ties.
        self.timers = []
        self.timer_sequence = 0
        self.wake_read, self.wake_write = socket.socketpair()
        for sock in (self.wake_read, self.wake_write):
            sock.setblocking(False)
        # A signal that arrives while epoll waits writes here, so the loop wakes and sees it.
        signal.set_wakeup_fd(self.wake_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self.ask_to_drain)
        signal.signal(signal.SIGINT, self.ask_to_drain)
        self.selector.register(self.wake_read, selectors.EVENT_READ, "wake")
        for _, sock in listeners:
            self.selector.register(sock, selectors.EVENT_READ, "listener")

    def ask_to_drain(self, *_):
        # Only a flag: the handler runs between any two bytecodes, maybe inside accept().
        self.drain_asked = True

    def drain(self):
        self.draining = True
        self.drain_started = time.monotonic()
        for _, sock in self.listeners:
            self.selector.unregister(sock)
            sock.close()
        log("draining: stopped accepting, %d connections open" % len(self.connections))

    def abandon(self):
        """--sloppy-drain: every connection closed unanswered, the listeners closed, nothing waited for."""
        # A lingering connection has had its last answer; any other holds a request, or may.
        answered = sum(1 for connection in self.connections.values() if connection.lingering)
        dropped = len(self.connections) - answered
        for connection in list(self.connections.values()):
            self.close(connection)
        for _, sock in self.listeners:
            self.selector.unregister(sock)
            sock.close()
        log("sloppy drain: dropped %d connections unanswered, closed %d answered; exiting" % (dropped, answered))

    def run(self):
        while True:
            if self.drain_asked and not self.draining:
                if self.options["sloppy-drain"]:
                    self.abandon()
                    return 0
                self.drain()
            timeout = SWEEP_SECONDS if self.draining or self.lingering else None
            if self.timers:
                wait = max(0.0, self.timers[0][0] - time.monotonic())
                timeout = wait if timeout is None else min(timeout, wait)
            for key, events in self.selector.select(timeout):
                if key.data == "wake":
                    try:
                        self.wake_read.recv(512)
                    except BlockingIOError:
                        pass
                elif key.data == "listener":
                    self.accept(key.fileobj)
                elif events & selectors.EVENT_WRITE:
                    self.flush(key.data)
                else:
                    self.read(key.data)
            now = time.monotonic()
            if self.timers:
                self.release(now)
            if (self.draining or self.lingering) and now >= self.next_sweep:
                self.sweep(now)
            if self.draining:
                spent = now - self.drain_started
                if not self.connections:
                    log("drained in %d ms; exiting" % (spent * 1000))
                    return 0
                if spent > self.options["drain-timeout"]:
                    log("drain cut off after %d ms with %d connections open" % (spent * 1000, len(self.connections)))
                    return 0

    def sweep(self, now):
        """Closes what has lingered long enough, and, in a drain, what has been idle long enough."""
        self.next_sweep = now + SWEEP_SECONDS
        for connection in list(self.connections.values()):
                if connection.lingering and now - connection.lingering > LINGER_SECONDS:
                    self.close(connection)
                elif (self.draining and not connection.inbox and not connection.outbox and not connection.lingering
                      and not connection.held and now - connection.last_active >= self.options["idle-close"]):
                    self.close(connection)

    def accept(self, listener):
        # Take what the queue holds now, but not forever: a busy port must not starve the others.
        for _ in range(64):
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.ECONNABORTED, errno.EMFILE, errno.ENFILE):
                    return
                raise
            sock.setblocking(False)
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, time.monotonic())
            self.connections[sock.fileno()] = connection
            self.selector.register(sock, selectors.EVENT_READ, connection)

    def read(self, connection):
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close(connection)
            return
        if not data:
            self.close(connection)
            return
        if connection.lingering or connection.closing:
            return  # read and dropped: the last answer has gone, the client is to close
        connection.last_active = time.monotonic()
        connection.inbox += data
        self.answer(connection)
        self.flush(connection)

    def answer(self, connection):
        while not connection.closing and connection.held is None:
            end = connection.inbox.find(b"\r\n\r\n")
            if end < 0:
                if len(connection.inbox) > MAX_HEAD:
                    self.respond(connection, 431, b"request head too large\n", False, True)
                return
            lines = connection.inbox[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self.respond(connection, 400, b"malformed request line\n", False, True)
                return
            method, path, version = parts
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self.respond(connection, 400, b"bad Content-Length\n", False, True)
                return
            if len(connection.inbox) < end + 4 + length:
                return  # the body is on its way
            connection.inbox = connection.inbox[end + 4 + length:]
            token = headers.get("connection", "").lower()
            keep = token == "keep-alive" if version == "HTTP/1.0" else token != "close"
            if method in ("GET", "HEAD"):
                status, body = (200, b"ok") if path == "/healthz" else (200, (IDENTITY + "\n").encode())
            elif method == "POST":
                status, body = 200, ("%s read %d\n" % (IDENTITY, length)).encode()
            else:
                status, body = 405, b"method not allowed\n"
            answer = (status, body, method == "HEAD", keep, version == "HTTP/1.0" and keep)
            if self.options["work"] and status == 200 and path != "/healthz":
                # Held on a timer; whether to close is decided when it is released, drain or not.
                connection.held = answer
                connection.due = time.monotonic() + self.options["work"]
                self.timer_sequence += 1
                heapq.heappush(self.timers, (connection.due, self.timer_sequence, connection))
                return
            self.send_answer(connection, answer)

    def send_answer(self, connection, answer):
        status, body, head_only, keep, keep_alive_header = answer
        self.respond(connection, status, body, head_only, not keep or self.draining, keep_alive_header)

    def release(self, now):
        """Sends the answers whose --work is done, and goes on to what their connections sent next."""
        while self.timers and self.timers[0][0] <= now:
            due, _, connection = heapq.heappop(self.timers)
            if connection.held is None or connection.due != due:
                continue  # closed meanwhile
            answer, connection.held, connection.due = connection.held, None, 0.0
            connection.last_active = now
            self.send_answer(connection, answer)
            self.answer(connection)
            self.flush(connection)

    def respond(self, connection, status, body, head_only, close, keep_alive_header=False):
        reason = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 431: "Request Header Fields Too Large"}
        head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n%s\r\n" % (
            status, reason[status], len(body),
            "Connection: close\r\n" if close else "Connection: keep-alive\r\n" if keep_alive_header else "")
        connection.outbox += head.encode("latin-1") + (b"" if head_only else body)
        connection.closing = connection.closing or close

    def flush(self, connection):
        try:
            sent = connection.sock.send(connection.outbox) if connection.outbox else 0
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close(connection)
            return
        connection.outbox = connection.outbox[sent:]
        if connection.outbox:
            self.selector.modify(connection.sock, selectors.EVENT_WRITE, connection)
            return
        self.selector.modify(connection.sock, selectors.EVENT_READ, connection)
        if connection.closing and not connection.lingering:
            # Half-close, then read to the client's end: closing with its bytes unread would send
            # a reset, which can destroy our last answer before the client reads it.
            try:
                connection.sock.shutdown(socket.SHUT_WR)
            except OSError:
                self.close(connection)
                return
            connection.lingering = time.monotonic()
            self.lingering += 1

    def close(self, connection):
        if connection.lingering:
            self.lingering -= 1
        connection.held = None
        self.connections.pop(connection.sock.fileno(), None)
        self.selector.unregister(connection.sock)
        connection.sock.close()


def log(message):
    print(IDENTITY + " " + message, flush=True)


def main():
    options = parse_args(sys.argv[1:])
    listeners = adopt() or bind(options["port"], options["reuse-port"])
    server = Server(listeners, options)
    log("listening on " + ", ".join("%s (%s)" % (describe(s), name) for name, s in listeners))
    notify("READY=1\nMAINPID=%d" % os.getpid())
    sys.exit(server.run())


if __name__ == "__main__":
    main()
