package dev.yaad.webrtc;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCSessionDescription;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds a transport's WebRTC signalling thread in a callback until closed: every WebRTC call
 * that must run on that thread (closing a peer connection, first of all) waits meanwhile, as
 * in a native deadlock. A real peer connection on the transport's own factory asks for an
 * offer; WebRTC delivers it on the signalling thread, and the observer does not return.
 */
final class SignallingThreadBlocker implements AutoCloseable {
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final RTCPeerConnection peer;

  private SignallingThreadBlocker(WebRtcTransport transport) {
    peer = transport.factory().createPeerConnection(new RTCConfiguration(), new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate candidate) {}
    });
    peer.createOffer(new RTCOfferOptions(), new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        entered.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void onFailure(String error) {
        entered.countDown();
      }
    });
  }

  static SignallingThreadBlocker block(WebRtcTransport transport) throws InterruptedException {
    SignallingThreadBlocker blocker = new SignallingThreadBlocker(transport);
    if (!blocker.entered.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("the signalling thread never reached the blocking callback");
    }
    return blocker;
  }

  /** Lets the signalling thread go: the abandoned teardown then finishes in the background. */
  @Override
  public void close() {
    release.countDown();
  }
}
