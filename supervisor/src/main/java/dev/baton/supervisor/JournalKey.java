package dev.baton.supervisor;

import static dev.baton.supervisor.StateJournal.refused;
import static dev.baton.supervisor.StateJournal.unreadable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The key of the state journal's HMAC, {@code <socket>.key}: made once, 0600, and believed only
 * while {@link JournalTrust} finds it this uid's and nobody else can read it. Apart from {@link
 * StateJournal} because it is a file of its own, with checks of its own, that every write and every
 * read of the journal goes through.
 */
final class JournalKey {
  private static final String HMAC = "HmacSHA256";
  private static final int KEY_BYTES = 32;

  private final Path journal;
  private final Path path;
  private final JournalTrust trust;
  private byte @Nullable [] key;

  /** {@code journal}: the journal it signs, which every refusal names. */
  JournalKey(Path journal, Path path, JournalTrust trust) {
    this.journal = journal;
    this.path = path;
    this.trust = trust;
  }

  Path path() {
    return path;
  }

  /** The journal's text for {@code json}: its HMAC in hex on the first line, then the JSON. */
  String sign(String json) throws IOException {
    return HexFormat.of().formatHex(mac(key(), json)) + "\n" + json;
  }

  /**
   * The JSON of a journal's {@code text}, once its first line has shown it is the HMAC of the rest.
   *
   * @throws StartException when there is no key, the key cannot be trusted or read, or the HMAC
   *     does not match
   */
  String verified(String text) {
    int newline = text.indexOf('\n');
    byte[] expected;
    try {
      var stored =
          load()
              .orElseThrow(
                  () ->
                      refused(
                          journal,
                          "there is no key " + path + " to check it with",
                          "Remove " + journal + " if you did not write it, and start again"));
      expected = newline < 0 ? new byte[0] : mac(stored, text.substring(newline + 1));
    } catch (IOException e) {
      throw unreadable(journal, e.toString());
    }
    byte[] found;
    try {
      found = HexFormat.of().parseHex(newline < 0 ? "" : text.substring(0, newline));
    } catch (IllegalArgumentException e) {
      found = new byte[0];
    }
    // A text with no HMAC line has nothing to compare: two empty arrays must not count as a match.
    if (newline < 0 || found.length == 0 || !MessageDigest.isEqual(expected, found)) {
      throw refused(
          journal,
          "its HMAC does not match "
              + path
              + ", so this service's supervisor did not write it"
              + " as it is",
          "Remove " + journal + " if you did not write it, and start again");
    }
    return text.substring(newline + 1);
  }

  /** The key: read once, or made once (0600, exclusively) when there is none yet. */
  private byte[] key() throws IOException {
    if (key == null) {
      var stored = load();
      if (stored.isPresent()) {
        key = stored.get();
      } else {
        var fresh = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(fresh);
        // Made 0600 by the open itself: never readable by others, not even for a moment.
        try (var out =
            Files.newByteChannel(
                path,
                java.util.Set.of(
                    StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.SYNC),
                StateJournal.OWNER_ONLY)) {
          out.write(ByteBuffer.wrap(fresh));
        }
        key = fresh;
      }
    }
    return key;
  }

  private Optional<byte[]> load() throws IOException {
    if (!trust.checkOwned(path, false)) {
      return Optional.empty();
    }
    var mode = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
    if (!mode.equals(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE))) {
      throw refused(
          journal,
          "its key "
              + path
              + " may be read by others (mode "
              + PosixFilePermissions.toString(mode)
              + ")",
          "Remove " + journal + " and " + path + " if you did not write them, and start again");
    }
    var bytes = Files.readAllBytes(path);
    if (bytes.length != KEY_BYTES) {
      throw refused(
          journal,
          "its key " + path + " is " + bytes.length + " bytes, not " + KEY_BYTES,
          "Remove " + journal + " and " + path + ", and start again");
    }
    return Optional.of(bytes);
  }

  private static byte[] mac(byte[] key, String text) {
    try {
      var mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no " + HMAC, e);
    }
  }
}
