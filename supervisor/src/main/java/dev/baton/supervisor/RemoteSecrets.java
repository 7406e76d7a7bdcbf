package dev.baton.supervisor;

import dev.baton.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.EnumSet;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The remote API's secrets, read once before the supervisor starts: the bearer token and the TLS
 * keystore's password, each from a file only the supervisor's user owns and can read, and the
 * keystore they open. Apart from {@link RemoteApi} so that every reason to refuse a secret, with
 * the command that fixes it, reads in one place.
 */
final class RemoteSecrets {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private RemoteSecrets() {}

  /**
   * A secret from a file that only its owner can read: the supervisor refuses to start with a token
   * that other users of the host could take.
   */
  static String secret(Path file, String key, Path config, int uid) {
    Set<PosixFilePermission> permissions;
    String text;
    int owner;
    try {
      permissions = Files.getPosixFilePermissions(file);
      owner = (Integer) Files.getAttribute(file, "unix:uid");
      text = Files.readString(file).strip();
    } catch (NoSuchFileException e) {
      throw new StartException(
          key
              + " "
              + file
              + " (in "
              + config
              + ") does not exist; create it, e.g."
              + " (umask 077; head -c 32 /dev/urandom | base64 > "
              + file
              + ")");
    } catch (IOException e) {
      throw new StartException("cannot read " + key + " " + file + ": " + e.getMessage());
    }
    // Another user who owns the file can rewrite it, and with it the token, whatever its mode.
    if (owner != uid) {
      throw new StartException(
          key
              + " "
              + file
              + " is owned by uid "
              + owner
              + ", not by uid "
              + uid
              + ", the user"
              + " baton runs as, so another user can change it; chown "
              + uid
              + " "
              + file
              + " (and keep it mode 0600)");
    }
    if (!OWNER_ONLY.containsAll(permissions)) {
      throw new StartException(
          key
              + " "
              + file
              + " is mode "
              + mode(permissions)
              + ", so other users can read it;"
              + " it must be mode 0600: chmod 600 "
              + file);
    }
    if (text.isEmpty()) {
      throw new StartException(key + " " + file + " is empty; put a long random secret in it");
    }
    return text;
  }

  static SSLContext tls(Config.Remote remote, Path config, int uid) {
    var keystore = remote.tlsKeystore().orElseThrow();
    var passwordFile =
        remote
            .tlsPasswordFile()
            .orElseThrow(
                () ->
                    new StartException(
                        "[remote] tls_keystore needs tls_password_file too (in "
                            + config
                            + "): a file, mode 0600, with the keystore's password"));
    var password = secret(passwordFile, "[remote] tls_password_file", config, uid).toCharArray();
    try {
      var store = KeyStore.getInstance(keystore.toFile(), password);
      var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      var context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new StartException(
          "cannot load [remote] tls_keystore "
              + keystore
              + ": "
              + e.getMessage()
              + "; it must be a PKCS12 or JKS keystore whose password is in tls_password_file");
    }
  }

  private static String mode(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (var p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return String.format("0%03o", mode);
  }
}
