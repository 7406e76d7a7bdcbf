package dev.baton.os;

/** A file descriptor number. Ownership is the holder's: whoever opened it closes it. */
public record Fd(int value) {
  public Fd {
    if (value < 0) {
      throw new IllegalArgumentException("fd must be >= 0: " + value);
    }
  }

  @Override
  public String toString() {
    return "fd=" + value;
  }
}
