package dev.yaad.memory.internal.search;

/** Selects the indices of the largest scores without sorting everything: a bounded min-heap. */
final class TopK {
  private TopK() {}

  /**
   * @return at most {@code k} indices whose score is above {@code floor}, best first; ties go
   *     to the lower index (the older memory)
   */
  static int[] of(float[] scores, int k, float floor) {
    int[] heap = new int[Math.max(1, k)];
    int size = 0;
    for (int i = 0; i < scores.length; i++) {
      float s = scores[i];
      if (!(s > floor)) {
        continue;
      }
      if (size < k) {
        heap[size] = i;
        up(heap, size++, scores);
      } else if (better(i, heap[0], scores)) {
        heap[0] = i;
        down(heap, size, scores);
      }
    }
    int[] out = new int[size];
    for (int j = size - 1; j >= 0; j--) {
      out[j] = heap[0];
      heap[0] = heap[--size];
      down(heap, size, scores);
    }
    return out;
  }

  private static boolean better(int a, int b, float[] s) {
    return s[a] > s[b] || (s[a] == s[b] && a < b);
  }

  private static void up(int[] heap, int i, float[] s) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!better(heap[parent], heap[i], s)) {
        break;
      }
      swap(heap, i, parent);
      i = parent;
    }
  }

  private static void down(int[] heap, int size, float[] s) {
    int i = 0;
    while (true) {
      int left = 2 * i + 1;
      if (left >= size) {
        return;
      }
      int worst = left;
      int right = left + 1;
      if (right < size && better(heap[left], heap[right], s)) {
        worst = right;
      }
      if (!better(heap[i], heap[worst], s)) {
        return;
      }
      swap(heap, i, worst);
      i = worst;
    }
  }

  private static void swap(int[] heap, int a, int b) {
    int t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
  }
}
