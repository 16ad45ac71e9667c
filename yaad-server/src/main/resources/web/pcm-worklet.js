// Yaad's microphone worklet: takes the microphone at the AudioContext's rate and posts 20 ms
// frames of 16-bit PCM at the rate the session asked for (linear resampling when they differ;
// the page picks the context's own rate whenever the server accepts it, so usually none).
class YaadPcm extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate, frameMs } = options.processorOptions;
    this.step = sampleRate / targetRate;
    this.frame = new Int16Array(Math.round((targetRate * frameMs) / 1000));
    this.n = 0;
    this.pos = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (; this.pos < input.length; this.pos += this.step) {
      const i = Math.floor(this.pos);
      const a = input[i];
      const b = i + 1 < input.length ? input[i + 1] : a;
      const s = Math.max(-1, Math.min(1, a + (b - a) * (this.pos - i)));
      this.frame[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.n === this.frame.length) {
        this.port.postMessage(this.frame.buffer.slice(0));
        this.n = 0;
      }
    }
    this.pos -= input.length;
    return true;
  }
}
registerProcessor('yaad-pcm', YaadPcm);
