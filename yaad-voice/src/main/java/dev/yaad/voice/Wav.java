package dev.yaad.voice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The little of RIFF/WAVE the local engines need: 16-bit PCM in, mono 16-bit PCM out. */
final class Wav {
  private Wav() {}

  /** Mono 16-bit samples and their rate. */
  record Pcm(short[] samples, int rate) {}

  /**
   * Reads a 16-bit PCM WAV (mono, or the first channel); a {@code data} size that is wrong (as
   * when written to a pipe) is ignored: the data runs to the end.
   *
   * @throws EngineException if it is not 16-bit PCM WAV
   */
  static Pcm parse(byte[] wav) {
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    if (wav.length < 12 || b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) { // "RIFF", "WAVE"
      throw new EngineException("not a WAV file (" + wav.length + " bytes)");
    }
    int pos = 12;
    int rate = 0;
    int channels = 1;
    while (pos + 8 <= wav.length) {
      int id = b.getInt(pos);
      int size = b.getInt(pos + 4);
      if (id == 0x20746d66) { // "fmt "
        int format = b.getShort(pos + 8) & 0xffff;
        channels = b.getShort(pos + 10);
        rate = b.getInt(pos + 12);
        int bits = b.getShort(pos + 22);
        if ((format != 1 && format != 0xfffe) || bits != 16 || channels < 1) {
          throw new EngineException("WAV is not 16-bit PCM (format " + format + ", " + bits + " bits)");
        }
      } else if (id == 0x61746164) { // "data"
        if (rate == 0) {
          throw new EngineException("WAV has data before its format");
        }
        int start = pos + 8;
        int frames = (wav.length - start) / (2 * channels);
        short[] pcm = new short[frames];
        for (int i = 0; i < frames; i++) {
          pcm[i] = b.getShort(start + i * 2 * channels);
        }
        return new Pcm(pcm, rate);
      }
      if (size < 0) {
        break;
      }
      pos += 8 + size + (size & 1);
    }
    throw new EngineException("WAV has no data");
  }

  /** A mono 16-bit PCM WAV of {@code pcm} at {@code rate}. */
  static byte[] of(short[] pcm, int rate) {
    ByteBuffer b = ByteBuffer.allocate(44 + pcm.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46464952).putInt(36 + pcm.length * 2).putInt(0x45564157);
    b.putInt(0x20746d66).putInt(16).putShort((short) 1).putShort((short) 1).putInt(rate).putInt(rate * 2)
        .putShort((short) 2).putShort((short) 16);
    b.putInt(0x61746164).putInt(pcm.length * 2);
    for (short s : pcm) {
      b.putShort(s);
    }
    return b.array();
  }
}
