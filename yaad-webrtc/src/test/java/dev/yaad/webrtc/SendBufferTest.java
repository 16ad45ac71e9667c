package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SendBufferTest {

  @Test
  void handsOutTenMillisecondChunks_inOrder() {
    SendBuffer b = new SendBuffer(1 << 20);
    short[] pcm = new short[400]; // 25 ms at 16 kHz
    for (int i = 0; i < pcm.length; i++) {
      pcm[i] = (short) i;
    }
    assertThat(b.offer(pcm, 16_000)).isTrue();
    assertThat(b.queuedMillis()).isEqualTo(25);
    short[] out = new short[480];
    assertThat(b.next10ms(out)).isEqualTo(16_000);
    assertThat(out[0]).isEqualTo((short) 0);
    assertThat(out[159]).isEqualTo((short) 159);
    assertThat(b.next10ms(out)).isEqualTo(16_000);
    assertThat(out[0]).isEqualTo((short) 160);
    assertThat(b.next10ms(out)).isEqualTo(16_000);
    assertThat(out[79]).isEqualTo((short) 399);
    assertThat(out[80]).as("the tail is padded with silence").isZero();
    assertThat(b.next10ms(out)).as("empty").isZero();
    assertThat(b.queuedMillis()).isZero();
  }

  @Test
  void aChunkNeverMixesRates() {
    SendBuffer b = new SendBuffer(1 << 20);
    b.offer(new short[100], 16_000);
    b.offer(new short[480], 48_000);
    short[] out = new short[480];
    assertThat(b.next10ms(out)).isEqualTo(16_000);
    assertThat(b.next10ms(out)).isEqualTo(48_000);
    assertThat(b.next10ms(out)).isZero();
  }

  @Test
  void refusesPastTheLimit_andKeepsWhatItHas() {
    SendBuffer b = new SendBuffer(1000); // 500 samples
    assertThat(b.offer(new short[400], 16_000)).isTrue();
    assertThat(b.offer(new short[200], 16_000)).isFalse();
    assertThat(b.queuedMillis()).isEqualTo(25);
    assertThat(b.offer(new short[100], 16_000)).isTrue();
  }

  @Test
  void clear_saysHowMuchWasDropped() {
    SendBuffer b = new SendBuffer(1 << 20);
    b.offer(new short[16_000], 16_000);
    b.next10ms(new short[480]);
    assertThat(b.clear()).isEqualTo(990);
    assertThat(b.queuedMillis()).isZero();
    assertThat(b.next10ms(new short[480])).isZero();
  }
}
