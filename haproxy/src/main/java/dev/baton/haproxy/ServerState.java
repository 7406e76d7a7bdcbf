package dev.baton.haproxy;

/**
 * One server as {@code show servers state} describes it.
 *
 * @param opState HAProxy's operational state: 0 stopped (down), 1 starting, 2 running (up), 3
 *     stopping
 * @param adminState HAProxy's administrative flags: 0x01 forced maint, 0x02 inherited maint, 0x04
 *     maint from the config, 0x08 forced drain, 0x10 inherited drain, 0x20 maint by DNS, 0x40 maint
 *     by hostname
 * @param userWeight the weight in effect ({@code set weight}, an agent's percentage)
 * @param initialWeight the weight in the configuration
 */
public record ServerState(
    String backend,
    String name,
    String address,
    int opState,
    int adminState,
    int userWeight,
    int initialWeight) {

  private static final int MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
  private static final int DRAIN_FLAGS = 0x08 | 0x10;

  public boolean up() {
    return opState == 2;
  }

  public boolean ready() {
    return (adminState & (MAINT_FLAGS | DRAIN_FLAGS)) == 0;
  }

  public boolean draining() {
    return (adminState & DRAIN_FLAGS) != 0 && (adminState & MAINT_FLAGS) == 0;
  }

  /** "ready", "drain" or "maint", as {@code set server ... state} spells them. */
  public String admin() {
    return (adminState & MAINT_FLAGS) != 0
        ? "maint"
        : (adminState & DRAIN_FLAGS) != 0 ? "drain" : "ready";
  }

  /** "down", "starting", "up" or "stopping". */
  public String operational() {
    return switch (opState) {
      case 0 -> "down";
      case 1 -> "starting";
      case 2 -> "up";
      case 3 -> "stopping";
      default -> "state " + opState;
    };
  }

  @Override
  public String toString() {
    return backend
        + "/"
        + name
        + " ("
        + address
        + ", "
        + operational()
        + ", "
        + admin()
        + ", weight "
        + userWeight
        + ")";
  }
}
