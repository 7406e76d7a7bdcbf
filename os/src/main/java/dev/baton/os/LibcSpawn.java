package dev.baton.os;

import static dev.baton.os.Native.checkReturned;
import static dev.baton.os.Native.plainCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * glibc's posix_spawn family, for {@link LinuxSpawn}. These functions return an error number
 * instead of setting errno, and none of them can be interrupted.
 */
final class LibcSpawn {
  private LibcSpawn() {}

  // spawn.h (glibc)
  static final short POSIX_SPAWN_SETPGROUP = 0x02;
  static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  // Opaque glibc types, allocated by us and filled by their *_init functions.
  static final long POSIX_SPAWN_FILE_ACTIONS_SIZE = 80;
  static final long POSIX_SPAWNATTR_SIZE = 336;
  static final long SIGSET_SIZE = 128;

  // The posix_spawn family returns an error number instead of setting errno.
  private static final MethodHandle POSIX_SPAWN =
      plainCall("posix_spawn", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
  private static final MethodHandle FILE_ACTIONS_INIT =
      plainCall("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
  private static final MethodHandle FILE_ACTIONS_DESTROY =
      plainCall("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
  private static final MethodHandle FILE_ACTIONS_ADDCHDIR =
      plainCall("posix_spawn_file_actions_addchdir_np", JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle FILE_ACTIONS_ADDOPEN =
      plainCall(
          "posix_spawn_file_actions_addopen",
          JAVA_INT,
          ADDRESS,
          JAVA_INT,
          ADDRESS,
          JAVA_INT,
          JAVA_INT);
  private static final MethodHandle FILE_ACTIONS_ADDDUP2 =
      plainCall("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
  private static final MethodHandle FILE_ACTIONS_ADDCLOSEFROM =
      plainCall("posix_spawn_file_actions_addclosefrom_np", JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle SPAWNATTR_INIT =
      plainCall("posix_spawnattr_init", JAVA_INT, ADDRESS);
  private static final MethodHandle SPAWNATTR_DESTROY =
      plainCall("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
  private static final MethodHandle SPAWNATTR_SETFLAGS =
      plainCall("posix_spawnattr_setflags", JAVA_INT, ADDRESS, JAVA_SHORT);
  private static final MethodHandle SPAWNATTR_SETPGROUP =
      plainCall("posix_spawnattr_setpgroup", JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle SPAWNATTR_SETSIGMASK =
      plainCall("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle SPAWNATTR_SETSIGDEFAULT =
      plainCall("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle SIGEMPTYSET = plainCall("sigemptyset", JAVA_INT, ADDRESS);

  static void fileActionsInit(MemorySegment actions) {
    checkReturned(
        "posix_spawn_file_actions_init", () -> (int) FILE_ACTIONS_INIT.invokeExact(actions));
  }

  static void fileActionsDestroy(MemorySegment actions) {
    checkReturned(
        "posix_spawn_file_actions_destroy", () -> (int) FILE_ACTIONS_DESTROY.invokeExact(actions));
  }

  static void addChdir(MemorySegment actions, MemorySegment path, String what) {
    checkReturned(what, () -> (int) FILE_ACTIONS_ADDCHDIR.invokeExact(actions, path));
  }

  static void addOpen(MemorySegment actions, int fd, MemorySegment path, int flags, String what) {
    checkReturned(what, () -> (int) FILE_ACTIONS_ADDOPEN.invokeExact(actions, fd, path, flags, 0));
  }

  static void addDup2(MemorySegment actions, int fd, int target, String what) {
    checkReturned(what, () -> (int) FILE_ACTIONS_ADDDUP2.invokeExact(actions, fd, target));
  }

  static void addClosefrom(MemorySegment actions, int from, String what) {
    checkReturned(what, () -> (int) FILE_ACTIONS_ADDCLOSEFROM.invokeExact(actions, from));
  }

  static void spawnattrInit(MemorySegment attr) {
    checkReturned("posix_spawnattr_init", () -> (int) SPAWNATTR_INIT.invokeExact(attr));
  }

  static void spawnattrDestroy(MemorySegment attr) {
    checkReturned("posix_spawnattr_destroy", () -> (int) SPAWNATTR_DESTROY.invokeExact(attr));
  }

  static void spawnattrSetflags(MemorySegment attr, short flags) {
    checkReturned(
        "posix_spawnattr_setflags", () -> (int) SPAWNATTR_SETFLAGS.invokeExact(attr, flags));
  }

  /** The process group POSIX_SPAWN_SETPGROUP puts the child in; 0 is a new one named by its pid. */
  static void spawnattrSetpgroup(MemorySegment attr, int pgroup) {
    checkReturned(
        "posix_spawnattr_setpgroup", () -> (int) SPAWNATTR_SETPGROUP.invokeExact(attr, pgroup));
  }

  static void spawnattrSetsigmask(MemorySegment attr, MemorySegment sigset) {
    checkReturned(
        "posix_spawnattr_setsigmask", () -> (int) SPAWNATTR_SETSIGMASK.invokeExact(attr, sigset));
  }

  static void spawnattrSetsigdefault(MemorySegment attr, MemorySegment sigset) {
    checkReturned(
        "posix_spawnattr_setsigdefault",
        () -> (int) SPAWNATTR_SETSIGDEFAULT.invokeExact(attr, sigset));
  }

  static void sigemptyset(MemorySegment sigset) {
    checkReturned("sigemptyset", () -> (int) SIGEMPTYSET.invokeExact(sigset));
  }

  /** posix_spawn(3): returns the child's pid. Errors from the child's exec come back here too. */
  static int posixSpawn(
      MemorySegment path,
      MemorySegment actions,
      MemorySegment attr,
      MemorySegment argv,
      MemorySegment envp,
      String what) {
    try (var arena = Arena.ofConfined()) {
      var pid = arena.allocate(JAVA_INT);
      checkReturned(
          what, () -> (int) POSIX_SPAWN.invokeExact(pid, path, actions, attr, argv, envp));
      return pid.get(JAVA_INT, 0);
    }
  }
}
