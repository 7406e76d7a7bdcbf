"""A plain fork/exec parent: what a supervisor does for an app, and nothing more.

usage: forkexec_parent.py [--setsid] --port=N PROGRAM [ARG...]

It binds 127.0.0.1:N (SO_REUSEADDR, a backlog of 4096, as baton run's listeners), forks, and in the
child puts the listener at fd 3 with LISTEN_FDS=1 and LISTEN_PID set to the child's pid, and execs
PROGRAM. With --setsid the child first calls setsid(), as baton run did for every generation: that
is what baton bench --steady compares, since a session of its own is a CPU share of its own under
the kernel's autogroup scheduling. The parent keeps its own copy of the listener, as a supervisor
does, and only waits: SIGTERM and SIGINT are passed on to the child, and it exits as the child did.
"""
import os
import signal
import socket
import sys


def parse(argv):
    setsid, port = False, None
    while argv and argv[0].startswith("--"):
        option = argv.pop(0)
        if option == "--setsid":
            setsid = True
        elif option.startswith("--port=") and option[7:].isdigit():
            port = int(option[7:])
        else:
            sys.exit("forkexec_parent.py: unknown option %s\n%s" % (option, __doc__))
    if port is None or not argv:
        sys.exit(__doc__)
    return setsid, port, argv


def main(argv):
    setsid, port, program = parse(list(argv))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    # Blocked until the child runs, so that a signal that comes early is passed on, not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    child = os.fork()
    if child == 0:
        try:
            if setsid:
                os.setsid()
            os.dup2(listener.fileno(), 3)
            # When the listener already is fd 3, dup2 leaves its close-on-exec flag as it was.
            os.set_inheritable(3, True)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="http")
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            os.execvpe(program[0], program, env)
        except OSError as e:
            print("forkexec_parent.py: cannot run %s: %s" % (program[0], e), file=sys.stderr, flush=True)
        os._exit(127)
    print("forkexec_parent: child pid %d%s" % (child, ", in a session of its own" if setsid else ""), flush=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(child, signum))
    signal.signal(signal.SIGINT, lambda signum, frame: os.kill(child, signum))
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv[1:])
