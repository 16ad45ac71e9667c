package dev.yaad.webrtc;

import dev.onvoid.webrtc.internal.NativeObject;
import dev.onvoid.webrtc.internal.RefCountedObject;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Properties;

/**
 * Drops the native reference a closed peer connection's Java wrapper still owns.
 *
 * <p>webrtc-java 0.14.0 hands a new {@code RTCPeerConnection} to Java with one reference, and
 * its {@code close()} closes the native peer connection, then forgets the handle without
 * releasing that reference: the peer connection (its SDP, transceivers, senders, receivers and
 * stats state: 117 to 141 KB per call measured) is never freed, and the leaked peer connections keep the
 * engine's audio device and two of its threads alive after the factory is disposed. Upstream
 * fixed it after 0.14.0 (webrtc-java issue 239, pull request 283: close() now calls
 * {@code Release()}); no release with the fix is published yet. The other wrappers a call
 * uses (transceivers, senders, receivers, the remote track) borrow their pointers in 0.14.0:
 * they own nothing and must never be released.
 *
 * <p>{@link #release(long)} does what the fix does, through the library's own
 * {@link RefCountedObject#release()} (the virtual {@code Release()} every WebRTC
 * reference-counted interface has) on the handle read before the close. It must run exactly
 * once per peer connection, after {@code close()} and before the factory is disposed (the last
 * release destroys the peer connection on the factory's signalling thread), and only with a
 * library whose close does not release: {@link #needed()} checks the version, so an upgrade
 * cannot turn this into a double release.
 */
final class NativeRefs {
  /** The webrtc-java release whose close() never releases the peer connection. */
  static final String LEAKING_VERSION = "0.14.0";
  private static final VarHandle HANDLE;
  private static final String VERSION = libraryVersion();

  static {
    try {
      HANDLE = MethodHandles.privateLookupIn(NativeObject.class, MethodHandles.lookup())
          .findVarHandle(NativeObject.class, "nativeHandle", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private NativeRefs() {}

  /** True if this library version leaves the release to us (see the class notes). */
  static boolean needed() {
    return LEAKING_VERSION.equals(VERSION);
  }

  /** The webrtc-java version on the class path (from its Maven metadata), or "unknown". */
  static String version() {
    return VERSION == null ? "unknown" : VERSION;
  }

  /** The native pointer a wrapper holds; 0 once the library has forgotten it. */
  static long handle(NativeObject wrapper) {
    return (long) HANDLE.getVolatile(wrapper);
  }

  /** Drops one reference to a native object; true if it was the last (the object is then freed). */
  static boolean release(long handle) {
    if (handle == 0) {
      throw new IllegalArgumentException("no native object to release");
    }
    Ref ref = new Ref();
    HANDLE.setVolatile(ref, handle);
    ref.release(); // clears the handle when it dropped the last reference
    return handle(ref) == 0;
  }

  private static String libraryVersion() {
    try (InputStream in = NativeObject.class.getResourceAsStream("/META-INF/maven/dev.onvoid.webrtc/webrtc-java/pom.properties")) {
      if (in == null) {
        return null;
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      return null;
    }
  }

  /** A wrapper with no object of its own: it lends the library's release() to a handle. */
  private static final class Ref extends RefCountedObject {}
}
