package dev.yaad.webrtc;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets WebRTC's field trials (its process-wide experiment switches, such as the jitter
 * buffer's tuning), which webrtc-java 0.14.0 has no API for.
 *
 * <p>WebRTC reads them from one process-wide string, {@code "Name/Value/Name/Value/"}, set by
 * {@code webrtc::field_trial::InitFieldTrialsFromString}. The 0.14.0 library contains that
 * function (the factory's default field trials read the string it sets) but does not export
 * it. This class calls it at its address in the one native library this build ships, found by
 * reading that library's code ({@code objdump -d}: the function that logs "Setting field trial
 * string:" and stores its argument in a global, which {@code FindFullName} reads), after checking
 * that the library's version and the function's bytes are the ones read; with any other build
 * it sets nothing and says why (as {@link ReceiveClock} does).
 *
 * <p>WebRTC keeps the pointer, not a copy: the string stays allocated for the life of the
 * process. The trials are read when a peer connection's objects are made, so they must be set
 * before the first call; they are the process's, shared by every transport in it, and can be
 * set once (the library aborts the process on a malformed string, which {@link #valid} refuses first).
 */
final class FieldTrials {
  private static final Logger log = LoggerFactory.getLogger(FieldTrials.class);
  private static final String VERSION = "0.14.0";
  /** webrtc::field_trial::InitFieldTrialsFromString(const char*) in libwebrtc-java-linux-x86_64.so 0.14.0. */
  private static final long INIT = 0xbf4d50L;
  /** Its 68 bytes: check the string (a failed check aborts), then store it in the global at 0x1655bf0. */
  private static final byte[] INIT_CODE = HexFormat.of().parseHex(
      "554889e553504889fbe8626493ff84c07524488d3d39305cff488d3592a259ff488d0da39358ffba210500004989d831c0e84aaca0ff"
          + "48891d630ea6004883c4085b5dc3");
  /** webrtc::field_trial::GetFieldTrialString(): returns that global. */
  private static final long GET = 0xbf4da0L;
  private static final byte[] GET_CODE = HexFormat.of().parseHex("554889e5488b05450ea6005dc3");
  /** Name/value pairs, each followed by a slash; neither empty. */
  private static final Pattern FORMAT = Pattern.compile("([^/]+/[^/]+/)*");

  private static Memory set; // WebRTC holds this pointer: never freed

  private FieldTrials() {}

  /** The trials that set the jitter buffer's quantile ({@link WebRtcConfig.Builder#jitterQuantile}). */
  static String jitterQuantile(double quantile) {
    return "WebRTC-Audio-NetEqDelayManagerConfig/quantile:" + quantile + "/";
  }

  /**
   * Whether {@code trials} has the form WebRTC accepts: {@code "Name/Value/"} pairs, no name twice
   * with two values, or empty.
   */
  static boolean valid(String trials) {
    if (!FORMAT.matcher(trials).matches()) {
      return false;
    }
    String[] parts = trials.split("/");
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i + 1 < parts.length; i += 2) {
      if (!values.getOrDefault(parts[i], parts[i + 1]).equals(parts[i + 1])) {
        return false; // one name, two values
      }
      values.put(parts[i], parts[i + 1]);
    }
    return true;
  }

  /**
   * Sets the process's field trials to {@code trials} unless they are set already (to the same
   * string: nothing to do; to another: refused). Returns null when they are in force, else why not
   * (this library's layout is not the one checked for), which the caller logs.
   *
   * @throws IllegalArgumentException if {@code trials} is not of the form {@link #valid} accepts
   */
  static synchronized String set(String trials) {
    if (!valid(trials)) {
      throw new IllegalArgumentException("field trials must be Name/Value/ pairs, each ending with a slash: " + trials);
    }
    if (set != null) {
      return set.getString(0).equals(trials) ? null : "field trials were already set to " + set.getString(0);
    }
    String unsupported = unsupported();
    if (unsupported != null) {
      return unsupported;
    }
    String current = current();
    if (current != null) {
      return "field trials were already set by someone else to " + current;
    }
    long base = ReceiveClock.libraryBase();
    Memory text = new Memory(trials.length() * 3L + 1);
    text.setString(0, trials, "UTF-8");
    Function.getFunction(new Pointer(base + INIT)).invokeVoid(new Object[] {text});
    set = text;
    log.info("webrtc: field trials {}", trials);
    return null;
  }

  /** The field trials WebRTC reads now (null: none); the library's layout must have been checked. */
  static String current() {
    Pointer current = Function.getFunction(new Pointer(ReceiveClock.libraryBase() + GET)).invokePointer(new Object[0]);
    return current == null ? null : current.getString(0);
  }

  private static String unsupported() {
    if (!VERSION.equals(NativeRefs.version())) {
      return "webrtc-java " + NativeRefs.version() + ", not " + VERSION;
    }
    long base = ReceiveClock.libraryBase();
    if (base == 0) {
      return "the native library is not mapped in this process";
    }
    if (!Arrays.equals(new Pointer(base + INIT).getByteArray(0, INIT_CODE.length), INIT_CODE)
        || !Arrays.equals(new Pointer(base + GET).getByteArray(0, GET_CODE.length), GET_CODE)) {
      return "the native library's field trial code is not the one this was written for";
    }
    return null;
  }
}
