package dev.yaad.webrtc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a {@link WebRtcTransport} runs: ICE servers, the UDP port range, the PCM rate handed to
 * the voice pipeline, and the bounds on every buffer. Immutable; built with {@link #builder()},
 * every option has a named default.
 *
 * <pre>{@code
 * WebRtcConfig config = WebRtcConfig.builder()
 *     .iceServers(List.of(IceServer.stun("stun:stun.example.org:3478")))
 *     .portRange(40000, 40999)
 *     .build();
 * }</pre>
 */
public final class WebRtcConfig {
  /** How long {@link WebRtcTransport#accept} waits for ICE gathering before answering with the candidates it has. */
  public static final Duration DEFAULT_ICE_GATHERING_TIMEOUT = Duration.ofSeconds(2);
  /** How long a call may stay disconnected (no ICE consent from the peer) before it is closed. */
  public static final Duration DEFAULT_DISCONNECTED_TIMEOUT = Duration.ofSeconds(10);
  /** How long a call may take from the answer to a connection before it is closed. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
  /** The rate of the {@link PcmFrame}s handed to the pipeline: what VAD and speech-to-text want. */
  public static final int DEFAULT_INPUT_SAMPLE_RATE = 16_000;
  /** Reply audio queued per call, not yet played: 1 MiB is 32 s at 16 kHz or 10.9 s at 48 kHz. */
  public static final long DEFAULT_SEND_BUFFER_BYTES = 1L << 20;
  /** Caller audio received but not yet taken by the pipeline, per call: 256 KiB is 8 s at 16 kHz. */
  public static final long DEFAULT_RECEIVE_BUFFER_BYTES = 256L << 10;
  /** Concurrent calls per transport. */
  public static final int DEFAULT_MAX_CALLS = 100;
  /** Opus packets of 10 ms: half of WebRTC's 20 ms, which took about 10 ms each way (docs/webrtc.md). */
  public static final int DEFAULT_PACKET_MILLIS = 10;
  /**
   * Longest a close waits for WebRTC to release a call's native objects (or, at shutdown, the
   * engine's) before it abandons them and returns. Closes took up to 4 s on a 2-core machine at
   * load 33; 10 s leaves room for that.
   */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final List<IceServer> iceServers;
  private final int minPort;
  private final int maxPort;
  private final int inputSampleRate;
  private final Duration iceGatheringTimeout;
  private final Duration connectTimeout;
  private final Duration disconnectedTimeout;
  private final long sendBufferBytes;
  private final long receiveBufferBytes;
  private final int maxCalls;
  private final int packetMillis;
  private final Duration closeTimeout;

  private WebRtcConfig(Builder b) {
    this.iceServers = List.copyOf(b.iceServers);
    this.minPort = b.minPort;
    this.maxPort = b.maxPort;
    this.inputSampleRate = b.inputSampleRate;
    this.iceGatheringTimeout = b.iceGatheringTimeout;
    this.connectTimeout = b.connectTimeout;
    this.disconnectedTimeout = b.disconnectedTimeout;
    this.sendBufferBytes = b.sendBufferBytes;
    this.receiveBufferBytes = b.receiveBufferBytes;
    this.maxCalls = b.maxCalls;
    this.packetMillis = b.packetMillis;
    this.closeTimeout = b.closeTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Every default: no ICE servers (host candidates only), any UDP port, 16 kHz input. */
  public static WebRtcConfig defaults() {
    return builder().build();
  }

  public List<IceServer> iceServers() {
    return iceServers;
  }

  /** The lowest local UDP/TCP port ICE may use, 0 for any. */
  public int minPort() {
    return minPort;
  }

  /** The highest local UDP/TCP port ICE may use, 0 for any. */
  public int maxPort() {
    return maxPort;
  }

  public int inputSampleRate() {
    return inputSampleRate;
  }

  public Duration iceGatheringTimeout() {
    return iceGatheringTimeout;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public Duration disconnectedTimeout() {
    return disconnectedTimeout;
  }

  public long sendBufferBytes() {
    return sendBufferBytes;
  }

  public long receiveBufferBytes() {
    return receiveBufferBytes;
  }

  public int maxCalls() {
    return maxCalls;
  }

  /** The Opus packet duration asked of both sides through SDP ({@code a=ptime}). */
  public int packetMillis() {
    return packetMillis;
  }

  public Duration closeTimeout() {
    return closeTimeout;
  }

  @Override
  public String toString() {
    return "WebRtcConfig{iceServers=" + iceServers + ", ports=" + (minPort == 0 ? "any" : minPort + "-" + maxPort)
        + ", inputSampleRate=" + inputSampleRate + ", iceGatheringTimeout=" + iceGatheringTimeout
        + ", connectTimeout=" + connectTimeout + ", disconnectedTimeout=" + disconnectedTimeout
        + ", sendBufferBytes=" + sendBufferBytes + ", receiveBufferBytes=" + receiveBufferBytes + ", maxCalls=" + maxCalls
        + ", packetMillis=" + packetMillis + ", closeTimeout=" + closeTimeout + "}";
  }

  /** Options are checked when set; each message names the option and the value it refused. */
  public static final class Builder {
    private List<IceServer> iceServers = new ArrayList<>();
    private int minPort;
    private int maxPort;
    private int inputSampleRate = DEFAULT_INPUT_SAMPLE_RATE;
    private Duration iceGatheringTimeout = DEFAULT_ICE_GATHERING_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration disconnectedTimeout = DEFAULT_DISCONNECTED_TIMEOUT;
    private long sendBufferBytes = DEFAULT_SEND_BUFFER_BYTES;
    private long receiveBufferBytes = DEFAULT_RECEIVE_BUFFER_BYTES;
    private int maxCalls = DEFAULT_MAX_CALLS;
    private int packetMillis = DEFAULT_PACKET_MILLIS;
    private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;

    private Builder() {}

    /** STUN/TURN servers; empty (the default) means host candidates only. */
    public Builder iceServers(List<IceServer> servers) {
      this.iceServers = new ArrayList<>(Objects.requireNonNull(servers, "iceServers"));
      return this;
    }

    /** Restricts ICE to local ports {@code min..max} (both inclusive), e.g. to open a firewall range. */
    public Builder portRange(int min, int max) {
      if (min < 1 || max > 65535 || min > max) {
        throw new IllegalArgumentException("portRange must satisfy 1 <= min <= max <= 65535, got " + min + ".." + max);
      }
      this.minPort = min;
      this.maxPort = max;
      return this;
    }

    /** The rate of the PCM handed to {@link WebRtcCall#onAudio}: 16000 (default) or 48000 (WebRTC's own). */
    public Builder inputSampleRate(int hz) {
      if (hz != 16_000 && hz != 48_000) {
        throw new IllegalArgumentException("inputSampleRate must be 16000 or 48000, got " + hz);
      }
      this.inputSampleRate = hz;
      return this;
    }

    public Builder iceGatheringTimeout(Duration timeout) {
      this.iceGatheringTimeout = positive("iceGatheringTimeout", timeout);
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    public Builder disconnectedTimeout(Duration timeout) {
      this.disconnectedTimeout = positive("disconnectedTimeout", timeout);
      return this;
    }

    /** Bytes of reply audio a call may queue ahead of playback; {@link WebRtcCall#send} refuses more. At least 9600 (100 ms at 48 kHz). */
    public Builder sendBufferBytes(long bytes) {
      if (bytes < 9_600) {
        throw new IllegalArgumentException("sendBufferBytes must be at least 9600 (100 ms at 48 kHz), got " + bytes);
      }
      this.sendBufferBytes = bytes;
      return this;
    }

    /** Bytes of received audio a call holds for a slow consumer before it drops (and counts) frames. At least 1920 (one frame at 48 kHz). */
    public Builder receiveBufferBytes(long bytes) {
      if (bytes < 1_920) {
        throw new IllegalArgumentException("receiveBufferBytes must be at least 1920 (one 20 ms frame at 48 kHz), got " + bytes);
      }
      this.receiveBufferBytes = bytes;
      return this;
    }

    public Builder maxCalls(int calls) {
      if (calls < 1) {
        throw new IllegalArgumentException("maxCalls must be at least 1, got " + calls);
      }
      this.maxCalls = calls;
      return this;
    }

    /**
     * Opus packet duration, 10 (default) or 20 ms (WebRTC's own default), asked of the peer and
     * of this side's encoder by an {@code a=ptime} line in every description (webrtc-java has
     * no API for it). Shorter packets leave 10 ms sooner, but on a loaded host the receiver's
     * jitter buffer answered with a target about as much higher (docs/webrtc.md, "Trimming it");
     * they cost 50 more packets a second each way (their headers: about 20 kb/s).
     */
    public Builder packetMillis(int millis) {
      if (millis != 10 && millis != 20) {
        throw new IllegalArgumentException("packetMillis must be 10 or 20, got " + millis);
      }
      this.packetMillis = millis;
      return this;
    }

    /** Longest a close waits for WebRTC's threads before it abandons the native objects and returns (see {@link WebRtcCall#close()}). */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = positive("closeTimeout", timeout);
      return this;
    }

    public WebRtcConfig build() {
      return new WebRtcConfig(this);
    }

    private static Duration positive(String name, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }
  }
}
