package dev.yaad.webrtc;

/**
 * A call could not be set up or the transport could not start: a malformed or unusable SDP
 * offer, a remote description WebRTC refused, the call limit, a closed transport, or a native
 * library that would not load. The message says which, with the native error where there is one.
 */
public class WebRtcException extends RuntimeException {
  public WebRtcException(String message) {
    super(message);
  }

  public WebRtcException(String message, Throwable cause) {
    super(message, cause);
  }
}
