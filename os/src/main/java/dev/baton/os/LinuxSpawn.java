package dev.baton.os;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/** {@link Os#spawn} on Linux: posix_spawn, with the descriptors and the signal state arranged. */
final class LinuxSpawn {
  private LinuxSpawn() {}

  /** pidfd_open(2) of a just-spawned child; tests replace it to fail as EMFILE would. */
  static volatile IntUnaryOperator pidfdOpen =
      pid -> Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");

  /** What execvp(3) searches when the environment has no PATH. */
  static final String DEFAULT_PATH = "/usr/bin:/bin";

  /**
   * posix_spawn with the descriptors arranged by file actions in the child, between its fork and
   * its exec. Targets are 0 (stdin), 1 and 2 (the new pipes) and 3.. (the listeners).
   *
   * <p>A source may already have a target's number: with listeners at fds 4 and 3 passed in that
   * order, "dup2(4, 3); dup2(3, 4)" would give the child the same socket twice. So every source is
   * first copied, in the parent, to a close-on-exec number above all targets, and the child dup2s
   * from those copies; no dup2 can then overwrite a source still to be read.
   *
   * <p>closefrom(3 + n) then closes everything above the targets, the copies included. The JVM
   * holds dozens of descriptors (jars, epoll, sockets), and not all of them are close-on-exec; a
   * generation must get exactly the descriptors the spec names and nothing else.
   */
  static ChildProcess spawn(SpawnSpec spec) {
    var argv0 = spec.argv().getFirst();
    var workdir = spec.workdir().toAbsolutePath();
    if (!Files.isDirectory(workdir)) {
      // posix_spawn would report this as a bare ENOENT, as if the program were missing.
      throw Native.error("posix_spawn(" + argv0 + "): chdir(" + workdir + ")", Libc.ENOENT);
    }
    var program = resolve(argv0, spec.env().getOrDefault("PATH", DEFAULT_PATH), workdir);
    String what = "posix_spawn(" + argv0 + ")";
    // The listeners, then the read ends of the child's own output pipes (see SpawnSpec).
    int firstFree = spec.stderrReadFd() + 1;

    var parentCopies = new ArrayList<Integer>(); // closed in the parent once the child has them
    var readEnds = new ArrayList<Integer>(); // kept on success, closed on failure
    boolean spawned = false;
    try (var arena = Arena.ofConfined()) {
      int[] stdout = Libc.pipe("pipe2(stdout of " + argv0 + ")");
      readEnds.add(stdout[0]);
      parentCopies.add(stdout[1]);
      int[] stderr = Libc.pipe("pipe2(stderr of " + argv0 + ")");
      readEnds.add(stderr[0]);
      parentCopies.add(stderr[1]);

      var actions = arena.allocate(LibcSpawn.POSIX_SPAWN_FILE_ACTIONS_SIZE, 8);
      var attr = arena.allocate(LibcSpawn.POSIX_SPAWNATTR_SIZE, 8);
      LibcSpawn.fileActionsInit(actions);
      LibcSpawn.spawnattrInit(attr);
      int pid;
      try {
        LibcSpawn.addChdir(
            actions, arena.allocateFrom(workdir.toString()), "addchdir(" + workdir + ")");
        if (spec.stdin().isPresent()) {
          int copy = copyAbove(spec.stdin().get().value(), firstFree, parentCopies);
          LibcSpawn.addDup2(actions, copy, 0, "adddup2(stdin)");
        } else {
          LibcSpawn.addOpen(
              actions, 0, arena.allocateFrom("/dev/null"), Libc.O_RDONLY, "addopen(0)");
        }
        LibcSpawn.addDup2(actions, copyAbove(stdout[1], firstFree, parentCopies), 1, "adddup2(1)");
        LibcSpawn.addDup2(actions, copyAbove(stderr[1], firstFree, parentCopies), 2, "adddup2(2)");
        for (int i = 0; i < spec.listenFds().size(); i++) {
          int copy = copyAbove(spec.listenFds().get(i).value(), firstFree, parentCopies);
          LibcSpawn.addDup2(actions, copy, 3 + i, "adddup2(" + (3 + i) + ")");
        }
        LibcSpawn.addDup2(
            actions,
            copyAbove(stdout[0], firstFree, parentCopies),
            spec.stdoutReadFd(),
            "adddup2(stdout read end)");
        LibcSpawn.addDup2(
            actions,
            copyAbove(stderr[0], firstFree, parentCopies),
            spec.stderrReadFd(),
            "adddup2(stderr read end)");
        LibcSpawn.addClosefrom(actions, firstFree, "addclosefrom(" + firstFree + ")");
        startClean(attr, arena);
        var argv = cStrings(arena, spec.argv());
        var envp = cStrings(arena, environment(spec.env()));
        pid = LibcSpawn.posixSpawn(arena.allocateFrom(program), actions, attr, argv, envp, what);
      } finally {
        LibcSpawn.fileActionsDestroy(actions);
        LibcSpawn.spawnattrDestroy(attr);
      }

      int pidfd;
      try {
        pidfd = pidfdOpen.applyAsInt(pid);
      } catch (NativeException e) {
        // A child we can't hold through a pidfd would run unmanaged: don't leave it running, and
        // reap it, or it stays a zombie as long as we live.
        LibcReap.killAndReap(pid);
        throw e;
      }
      spawned = true;
      var pipes = List.of(Proc.link(new Fd(stdout[0])), Proc.link(new Fd(stderr[0])));
      return new LinuxChildProcess(
          pid,
          pidfd,
          new FdInputStream(new SharedFd(stdout[0]), /* ownsFd= */ true),
          new FdInputStream(new SharedFd(stderr[0]), /* ownsFd= */ true),
          pipes);
    } finally {
      // The child has its own copies now; ours would keep the pipes from ever reaching EOF.
      parentCopies.forEach(Libc::close);
      if (!spawned) {
        readEnds.forEach(Libc::close);
      }
    }
  }

  /**
   * The JVM blocks and handles signals of its own; a generation starts from a clean slate: nothing
   * blocked, every disposition the default, and its own process group.
   */
  private static void startClean(MemorySegment attr, Arena arena) {
    var empty = arena.allocate(LibcSpawn.SIGSET_SIZE, 8);
    LibcSpawn.sigemptyset(empty);
    LibcSpawn.spawnattrSetsigmask(attr, empty);
    // Every bit set, not sigfillset: sigfillset leaves out glibc's internal signals 32 and 33
    // (SIGCANCEL, SIGSETXID), and for those posix_spawn then sets SIG_IGN in the child, which
    // survives exec (ProcessBuilder's children show SigIgn 0000000180000000). With them in the set,
    // the child resets them to SIG_DFL like the rest.
    var all = arena.allocate(LibcSpawn.SIGSET_SIZE, 8);
    all.fill((byte) 0xff);
    LibcSpawn.spawnattrSetsigdefault(attr, all);
    // A process group of its own (pgid = pid) in our session; see Os#spawn for why not a session.
    LibcSpawn.spawnattrSetpgroup(attr, 0);
    int flags =
        LibcSpawn.POSIX_SPAWN_SETSIGMASK
            | LibcSpawn.POSIX_SPAWN_SETSIGDEF
            | LibcSpawn.POSIX_SPAWN_SETPGROUP;
    LibcSpawn.spawnattrSetflags(attr, (short) flags);
  }

  /** A close-on-exec copy of {@code fd} numbered {@code min} or higher, remembered for closing. */
  private static int copyAbove(int fd, int min, List<Integer> copies) {
    int copy = Libc.dupCloexec(fd, min, "fcntl(fd=" + fd + ", F_DUPFD_CLOEXEC, " + min + ")");
    copies.add(copy);
    return copy;
  }

  /**
   * argv[0] as execvp would find it, but on the PATH of the child's environment: posix_spawnp would
   * search the supervisor's own PATH instead. A relative PATH entry is taken from the child's
   * working directory, where the exec happens.
   */
  static String resolve(String argv0, String path, Path workdir) {
    if (argv0.contains("/")) {
      return argv0;
    }
    for (var dir : path.split(":", -1)) {
      var candidate = workdir.resolve(dir).resolve(argv0);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw Native.error("posix_spawn(" + argv0 + ")", Libc.ENOENT);
  }

  static List<String> environment(Map<String, String> env) {
    return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).sorted().toList();
  }

  /** A NULL-terminated array of C strings, as argv and envp are. */
  static MemorySegment cStrings(Arena arena, List<String> strings) {
    var array = arena.allocate(ADDRESS, strings.size() + 1); // zeroed: the last slot is the NULL
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    return array;
  }
}
