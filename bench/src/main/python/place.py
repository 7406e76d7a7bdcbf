"""Starts a program where baton bench --steady wants it, then becomes it.

usage: place.py group|session PROGRAM [ARG...]

  group    a process group of its own, in the caller's session (and so in its autogroup)
  session  a session of its own (setsid): with kernel.sched_autogroup_enabled=1, a CPU share of its own

bench starts every server of a steady run through this, so that each is placed the same way whatever
starts it: the bare sample, the fork/exec parent and baton run alike. Java's ProcessBuilder can do
neither of the two, and bench's own spawn always calls setsid.
"""
import os
import sys


def main(argv):
    if len(argv) < 2 or argv[0] not in ("group", "session"):
        sys.exit(__doc__)
    if argv[0] == "session":
        os.setsid()
    else:
        os.setpgid(0, 0)
    try:
        os.execvp(argv[1], argv[1:])
    except OSError as e:
        sys.exit("place.py: cannot run %s: %s" % (argv[1], e))


if __name__ == "__main__":
    main(sys.argv[1:])
