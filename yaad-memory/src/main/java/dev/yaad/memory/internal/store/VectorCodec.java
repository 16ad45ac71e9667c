package dev.yaad.memory.internal.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Vectors as stored: little-endian IEEE float32 components, nothing else (length = 4 x dimension). */
final class VectorCodec {
  private VectorCodec() {}

  static byte[] encode(float[] vector) {
    ByteBuffer buffer = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(vector);
    return buffer.array();
  }

  static float[] decode(byte[] bytes) {
    float[] vector = new float[bytes.length / Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
    return vector;
  }
}
