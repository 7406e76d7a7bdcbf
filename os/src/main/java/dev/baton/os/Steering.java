package dev.baton.os;

/**
 * Which listener of a SO_REUSEPORT group gets the group's new connections, decided by a BPF program
 * on the group rather than by the kernel's hash. Each generation listens on a socket of its own in
 * one group; promoting a generation, or rolling back to the one before, is one {@link #select},
 * atomic for every connection that arrives after it. No connection is refused in between: the
 * group's sockets all stay bound and listening throughout.
 *
 * <p>A listener that closes with connections still queued hands them to the selected listener
 * instead of resetting them, so a drained generation loses none it had not accepted yet.
 *
 * <p>Not for concurrent use by several threads at once: the supervisor's loop owns it.
 */
public interface Steering extends AutoCloseable {

  /**
   * Puts this steering's program on the group {@code listener} listens in, replacing any program
   * the group had: that is how a restarted supervisor takes a group back from the one before it.
   * Until the first {@link #select}, the group's connections are spread by the kernel's hash, as if
   * there were no program.
   *
   * @throws NativeException when {@code listener} is not a SO_REUSEPORT socket
   */
  void attach(Fd listener);

  /**
   * From now on, every new connection to the group goes to {@code listener}'s accept queue.
   * Selecting the listener already selected changes nothing. When the selected listener closes, the
   * kernel spreads new connections over those left by its hash until the next select.
   *
   * <p>Right after an {@link #attach} that took the group over, this may wait a few tens of
   * milliseconds: the listener the replaced program selected stays in that program's map until the
   * kernel frees it, after RCU grace periods, and until then the kernel refuses it to any other.
   * Meanwhile the new program, its slot empty, lets the kernel's hash spread new connections.
   *
   * @throws NativeException naming the call when {@code listener} is not listening in a
   *     SO_REUSEPORT group, or (EBUSY, after waiting 2 s) when another steering that is still
   *     attached or open holds it
   */
  void select(Fd listener);

  /**
   * Closes this process's descriptors for the map and the program. A program attached to a group
   * keeps steering for as long as the group exists, to the listener last selected: the kernel holds
   * references of its own.
   */
  @Override
  void close();
}
