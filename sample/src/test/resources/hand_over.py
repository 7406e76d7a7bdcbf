"""Hands listening sockets to a command the way baton's supervisor does, for end-to-end tests.

usage: hand_over.py fd0|listen-fds inet|inet6|unix NAME[:NAME...] COMMAND [ARG...]

Binds one listening socket per NAME (port 0 on loopback, or a fresh Unix socket path), prints
"listening ADDRESS..." on one line, then execs COMMAND with the sockets either at fd 0 (one NAME)
or at fds 3.. with LISTEN_FDS and LISTEN_FDNAMES, through the /bin/sh shim baton uses to set
LISTEN_PID to the pid that COMMAND will have. exec keeps the pid, so the test's Process is COMMAND.
"""
import fcntl
import os
import socket
import sys
import tempfile

mode, family, names, command = sys.argv[1], sys.argv[2], sys.argv[3].split(":"), sys.argv[4:]
if mode == "fd0" and len(names) != 1:
    sys.exit("fd0 hands over exactly one socket")

sockets, addresses = [], []
for name in names:
    if family == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = os.path.join(tempfile.mkdtemp(prefix="hand-over-"), name + ".sock")
        s.bind(path)
        addresses.append(path)
    else:
        af, host, shown = ((socket.AF_INET6, "::1", "[::1]") if family == "inet6"
                           else (socket.AF_INET, "127.0.0.1", "127.0.0.1"))
        s = socket.socket(af, socket.SOCK_STREAM)
        s.bind((host, 0))
        addresses.append("%s:%d" % (shown, s.getsockname()[1]))
    s.listen(128)
    sockets.append(s)

# Park every socket at a high fd first, so that moving one onto fd 0 or 3.. never closes another
# that happens to sit there. The parked copies are close-on-exec.
fds = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for s in sockets]
for s in sockets:
    s.close()
first = 0 if mode == "fd0" else 3
for i, fd in enumerate(fds):
    os.dup2(fd, first + i, inheritable=True)

env = dict(os.environ)
if mode == "listen-fds":
    env["LISTEN_FDS"] = str(len(names))
    env["LISTEN_FDNAMES"] = ":".join(names)
print("listening " + " ".join(addresses), flush=True)
os.execve("/bin/sh", ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'] + command, env)
