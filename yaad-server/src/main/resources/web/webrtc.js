// Server voice over WebRTC (docs/webrtc.md; the messages are in docs/api.md, "Audio over WebRTC"):
// the microphone goes to Yaad as an Opus track, with the browser's echo cancellation, noise
// suppression and gain control on; the companion's speech comes back as a track and plays through
// an <audio> element, behind the browser's own jitter buffer. Only the audio travels on the call:
// the offer, the answer and every event stay on the session WebSocket. app.js prefers this when
// /api/v1/config has `webrtc`, and falls back to WebSocket audio when a call cannot be made.

/** How long the offer waits for the page's own ICE candidates before it goes (the rest trickle). */
const GATHER_MS = 1000;
/**
 * How long the reply stays muted after `interrupted` unless the next reply starts sooner: longer
 * than what was already on its way (one one-way latency, 50-250 ms), shorter than a new turn.
 */
const TAIL_MS = 500;

export class WebRtcVoice {
  /**
   * @param send       sends one JSON message on the session socket
   * @param iceServers RTCIceServer objects (the server's STUN servers), or []
   */
  constructor(send, iceServers) {
    this.send = send;
    this.iceServers = iceServers || [];
    this.pc = null;
    this.mic = null;
    this.player = null;
    this.callId = null;
    this.offered = false;
    this.unmuteTimer = null;
  }

  /** Opens the microphone (muted until talk()) and sends the offer. Rejects if either fails. */
  async start() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.mic = stream.getAudioTracks()[0];
    this.mic.enabled = false; // a muted track sends silence: the server's VAD hears the pauses
    pc.addTransceiver(this.mic, { direction: 'sendrecv' });
    pc.ontrack = (event) => {
      if (!this.player) {
        this.player = new Audio();
        this.player.autoplay = true;
      }
      this.player.srcObject = new MediaStream([event.track]);
      this.player.play().catch(() => { /* autoplay refused: plays after the next click */ });
    };
    pc.onicecandidate = (event) => {
      if (this.offered && event.candidate && event.candidate.candidate) {
        const c = event.candidate;
        this.send({ type: 'webrtc_candidate', candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_MS);
    // From here on new candidates trickle; those found so far are in the description.
    this.offered = true;
    this.send({ type: 'webrtc_offer', sdp: pc.localDescription.sdp });
  }

  /** The server's webrtc_answer. */
  async answered(message) {
    this.callId = message.callId;
    if (this.pc) await this.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
  }

  /** Whether the person is talking to the companion (push to talk held, or hands-free). */
  talk(on) {
    if (this.mic) this.mic.enabled = on;
  }

  /**
   * The server said `interrupted`: it has dropped the reply's unsent audio, but what was already
   * on its way (in flight and in the jitter buffer) would still play. Muted until the next reply
   * starts (`audio_started`), or TAIL_MS at most.
   */
  interrupted() {
    if (!this.player) return;
    this.player.muted = true;
    clearTimeout(this.unmuteTimer);
    this.unmuteTimer = setTimeout(() => this.replyStarts(), TAIL_MS);
  }

  /** A reply's audio starts (`audio_started`): heard again. */
  replyStarts() {
    clearTimeout(this.unmuteTimer);
    if (this.player) this.player.muted = false;
  }

  /** Ends the call from this side; the server answers webrtc_ended. */
  hangUp() {
    if (this.pc) this.send({ type: 'webrtc_hangup' });
    this.close();
  }

  /** Releases the microphone, the player and the peer connection (after webrtc_ended, or the socket closed). */
  close() {
    clearTimeout(this.unmuteTimer);
    if (this.mic) this.mic.stop();
    if (this.player) { this.player.pause(); this.player.srcObject = null; }
    if (this.pc) this.pc.close();
    this.pc = null;
    this.mic = null;
    this.player = null;
  }

  /** The reply audio received so far (inbound-rtp), for tests and the curious. */
  async received() {
    if (!this.pc) return null;
    for (const s of (await this.pc.getStats()).values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        return { packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived, totalAudioEnergy: s.totalAudioEnergy };
      }
    }
    return null;
  }
}

/** Resolves once ICE gathering is complete, or after `ms`, whichever comes first. */
function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}
