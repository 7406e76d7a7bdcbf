package dev.baton.bench;

import dev.baton.config.Config;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A way of replacing the app, measured one after another in the same run. {@code none} is the
 * baseline the others are compared with.
 */
public enum Scenario {
  /** The app started once and never replaced: the baseline. */
  NONE("none", false),
  /** SIGTERM, wait for the exit, start the new one, which binds the port itself. */
  STOP_START("stop-start", true),
  /**
   * Each generation on its own SO_REUSEPORT socket, with net.ipv4.tcp_migrate_req as it is (0 by
   * default).
   */
  REUSEPORT("reuseport", true),
  /**
   * The same with net.ipv4.tcp_migrate_req=1: closed sockets hand their queues on. Needs its own
   * netns.
   */
  REUSEPORT_MIGRATE("reuseport-migrate", true),
  /** baton run with no deploys: shows the supervisor is not in the request path. */
  BATON_STEADY("baton-steady", false),
  /** baton run, deploying at the rhythm. */
  BATON("baton", true),
  /**
   * The same with the listener steered by BPF ({@code steer = "bpf"}): a socket per generation in
   * one SO_REUSEPORT group, the active one chosen by a map update. Needs root (or CAP_BPF).
   */
  BATON_BPF("baton-bpf", true);

  private final String label;
  private final boolean reloads;

  Scenario(String label, boolean reloads) {
    this.label = label;
    this.reloads = reloads;
  }

  String label() {
    return label;
  }

  /** Whether the app is replaced at the rhythm during the load. */
  boolean reloads() {
    return reloads;
  }

  boolean supervised() {
    return this == BATON || this == BATON_STEADY || this == BATON_BPF;
  }

  /** How bench's config for the sample steers its listener: BPF for baton-bpf alone. */
  Config.Steer steer() {
    return this == BATON_BPF ? Config.Steer.BPF : Config.Steer.SHARED;
  }

  /** The names --scenarios takes: the four ways, and the variants by their own names. */
  public static final List<String> NAMES = List.of("none", "stop-start", "reuseport", "baton");

  /**
   * Parses --scenarios. {@code reuseport} also brings {@code reuseport-migrate} when {@code
   * migrateSettable}, and {@code baton} brings {@code baton-steady} when {@code steady}.
   *
   * @throws IllegalArgumentException naming the unknown scenario and the known ones
   */
  public static List<Scenario> parse(String list, boolean migrateSettable, boolean steady) {
    var chosen = new ArrayList<Scenario>();
    for (var word : list.split(",")) {
      var name = word.trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "reuseport" -> {
          chosen.add(REUSEPORT);
          if (migrateSettable) {
            chosen.add(REUSEPORT_MIGRATE);
          }
        }
        case "baton" -> {
          if (steady) {
            chosen.add(BATON_STEADY);
          }
          chosen.add(BATON);
        }
        default ->
            chosen.add(
                Arrays.stream(values())
                    .filter(s -> s.label.equals(name))
                    .findFirst()
                    .orElseThrow(
                        () ->
                            new IllegalArgumentException(
                                "unknown scenario '"
                                    + word.trim()
                                    + "'; use some of "
                                    + String.join(",", NAMES)
                                    + " (or a variant: reuseport-migrate, baton-steady, baton-bpf)")));
      }
    }
    // Always in the same order, baseline first, so that runs compare and ratios have their base.
    return Arrays.stream(values()).filter(chosen::contains).toList();
  }

  @Override
  public String toString() {
    return label;
  }
}
