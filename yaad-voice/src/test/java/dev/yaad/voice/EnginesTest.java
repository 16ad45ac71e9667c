package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The parts with real audio: Silero VAD, PocketSphinx, flite, espeak-ng, the resampler. */
class EnginesTest {
  static SileroVad.Model model;

  @BeforeAll
  static void load() {
    model = SileroVad.Model.load();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static List<long[]> segments(short[] pcm16k) {
    List<long[]> found = new ArrayList<>();
    SileroVad vad = new SileroVad(model, 0.5f, 300, new SileroVad.Listener() {
      @Override
      public void speechStarted(long startSample) {}

      @Override
      public void speechEnded(long startSample, long endSample) {
        found.add(new long[] {startSample, endSample});
      }
    });
    vad.accept(pcm16k, pcm16k.length);
    return found;
  }

  @Test
  void vad_findsEachSentence_andNothingInNoise() {
    short[] one = Fixtures.english("the weather is nice today", 16_000, 800);
    short[] two = Fixtures.english("my brother lives in new york", 16_000, 800);
    short[] both = new short[one.length + two.length];
    System.arraycopy(one, 0, both, 0, one.length);
    System.arraycopy(two, 0, both, one.length, two.length);
    List<long[]> found = segments(both);
    assertThat(found).hasSize(2);
    assertThat(found.get(0)[0]).isLessThan(one.length);
    assertThat(found.get(1)[0]).isGreaterThan(one.length - 16_000 / 2);
    short[] noise = new short[16_000 * 2];
    java.util.Random random = new java.util.Random(1);
    for (int i = 0; i < noise.length; i++) {
      noise[i] = (short) (random.nextGaussian() * 150);
    }
    assertThat(segments(noise)).isEmpty();
  }

  @Test
  void pocketSphinx_transcribesFliteSpeech() throws Exception {
    PocketSphinx sphinx = PocketSphinx.load(VoiceConfig.DEFAULT_POCKETSPHINX_MODEL);
    assertThat(sphinx).as("Debian's pocketsphinx and pocketsphinx-en-us must be installed").isNotNull();
    try {
      String text = sphinx.transcribe(Fixtures.english("please call me tomorrow morning", 16_000, 300), "en", p -> {}).text();
      assertThat(Fixtures.wordErrors("please call me tomorrow morning", text)).as(text).isLessThanOrEqualTo(1);
    } finally {
      sphinx.close();
    }
  }

  /**
   * A decoder adapts to what it hears (its cepstral mean), and the pool grows when transcriptions
   * overlap, which a busy machine makes more likely: a decoder made then must not start from the
   * model's default and hear the next utterances otherwise (seen as a worse word error rate).
   */
  @Test
  void pocketSphinx_aDecoderAddedToThePool_hearsAsTheOneBeforeIt() throws Exception {
    List<String> sentences = List.of("i would like a cup of tea", "she is reading a good book", "the train leaves at seven",
        "my favorite color is blue", "the children are playing outside", "he plays football every sunday");
    List<short[]> audio = sentences.stream().map(s -> Fixtures.english(s, 16_000, 700)).toList();
    List<String> oneDecoder = transcribeAll(audio, false);
    List<String> twoDecoders = transcribeAll(audio, true);
    assertThat(twoDecoders).isEqualTo(oneDecoder);
  }

  /** Transcribes {@code audio} in order on a new engine, with a second decoder made after the first utterance when asked. */
  private static List<String> transcribeAll(List<short[]> audio, boolean grow) throws Exception {
    try (PocketSphinx sphinx = PocketSphinx.load(VoiceConfig.DEFAULT_POCKETSPHINX_MODEL)) {
      assertThat(sphinx).as("Debian's pocketsphinx and pocketsphinx-en-us must be installed").isNotNull();
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < audio.size(); i++) {
        com.sun.jna.Pointer first = grow && i == 1 ? sphinx.idle.poll() : null; // busy: the next one is made now
        texts.add(sphinx.transcribe(audio.get(i), "en", p -> {}).text());
        if (first != null) {
          sphinx.idle.add(first); // from now on the two take turns
        }
      }
      return texts;
    }
  }

  @Test
  void localTts_speaksEnglishAndUrdu_atTheAskedRate() throws Exception {
    List<ProcessTextToSpeech> engines = ProcessTextToSpeech.installed();
    assertThat(engines).extracting(ProcessTextToSpeech::name).contains("en (flite)", "ur (espeak-ng)");
    for (ProcessTextToSpeech e : engines) {
      List<short[]> chunks = new ArrayList<>();
      e.synthesize(e.supports("ur") ? "آپ کیسے ہیں؟" : "How are you today?", e.supports("ur") ? "ur" : "en", 24_000, chunks::add);
      int samples = chunks.stream().mapToInt(c -> c.length).sum();
      assertThat(samples).as(e.name()).isBetween(24_000 / 2, 24_000 * 4); // half a second to four
      assertThat(rms(chunks.getFirst())).as(e.name()).isGreaterThan(300);
    }
  }

  /** The polyphase weights give, sample for sample, what interpolating every weight from the table gives. */
  @Test
  void resampler_polyphase_equalsWeightsInterpolatedPerTap() {
    int[][] pairs = {{24_000, 16_000}, {48_000, 16_000}, {16_000, 48_000}, {24_000, 48_000}, {8_000, 24_000}, {44_100, 16_000}, {16_000, 24_000}};
    for (int[] pair : pairs) {
      short[] speech = Fixtures.english("my brother lives in new york", pair[0], 200);
      Resampler fast = new Resampler(pair[0], pair[1]);
      Resampler reference = new Resampler(pair[0], pair[1], false);
      List<Short> got = new ArrayList<>();
      List<Short> expected = new ArrayList<>();
      int frame = pair[0] / 50 + 7; // frames that do not end on a whole output sample
      for (int off = 0; off < speech.length; off += frame) {
        short[] chunk = java.util.Arrays.copyOfRange(speech, off, Math.min(speech.length, off + frame));
        for (short s : fast.process(chunk)) {
          got.add(s);
        }
        for (short s : reference.process(chunk)) {
          expected.add(s);
        }
      }
      for (short s : fast.flush()) {
        got.add(s);
      }
      for (short s : reference.flush()) {
        expected.add(s);
      }
      // The reference adds up a step such as 1/3 in floating point: it may end a sample later.
      assertThat(got.size()).as("%d to %d Hz", pair[0], pair[1]).isCloseTo(expected.size(), within(1));
      for (int i = 0; i < Math.min(got.size(), expected.size()); i++) {
        assertThat((int) got.get(i)).as("%d to %d Hz, sample %d", pair[0], pair[1], i).isCloseTo(expected.get(i), within(1));
      }
    }
  }

  @Test
  void resampler_keepsATone_andRemovesWhatTheLowerRateCannotCarry() {
    short[] tone1k = tone(1000, 48_000, 48_000);
    short[] tone12k = tone(12_000, 48_000, 48_000);
    short[] down = Resampler.convert(tone1k, 48_000, 16_000);
    assertThat(down.length).isBetween(15_990, 16_010);
    assertThat(rms(java.util.Arrays.copyOfRange(down, 1000, 15_000))).isBetween(0.9 * rms(tone1k), 1.1 * rms(tone1k));
    // 12 kHz cannot exist at 16 kHz: without a low-pass it would fold back to 4 kHz at full strength.
    short[] folded = Resampler.convert(tone12k, 48_000, 16_000);
    assertThat(rms(java.util.Arrays.copyOfRange(folded, 1000, 15_000))).isLessThan(0.05 * rms(tone12k));
    short[] up = Resampler.convert(tone(1000, 8_000, 8_000), 8_000, 24_000);
    assertThat(up.length).isBetween(23_990, 24_010);
    assertThat(rms(java.util.Arrays.copyOfRange(up, 1000, 23_000))).isBetween(0.9 * rms(tone1k), 1.1 * rms(tone1k));
    // Streaming in 20 ms frames gives the same as all at once.
    Resampler streaming = new Resampler(48_000, 16_000);
    List<Short> streamed = new ArrayList<>();
    for (int off = 0; off < tone1k.length; off += 960) {
      for (short s : streaming.process(java.util.Arrays.copyOfRange(tone1k, off, off + 960))) {
        streamed.add(s);
      }
    }
    for (int i = 0; i < streamed.size(); i++) {
      assertThat(streamed.get(i)).isEqualTo(down[i]);
    }
  }

  static short[] tone(double hz, int rate, int samples) {
    short[] pcm = new short[samples];
    for (int i = 0; i < samples; i++) {
      pcm[i] = (short) (8000 * Math.sin(2 * Math.PI * hz * i / rate));
    }
    return pcm;
  }

  static double rms(short[] pcm) {
    double sum = 0;
    for (short s : pcm) {
      sum += (double) s * s;
    }
    return Math.sqrt(sum / Math.max(1, pcm.length));
  }

  @Test
  void sentences_splitOnEnglishAndUrduMarks_notInsideNumbers() {
    String text = "It costs 3.5 rupees. Really? آپ کیسے ہیں؟ ٹھیک ہے۔ ok";
    List<String> found = new ArrayList<>();
    int from = 0;
    int end;
    while ((end = Sentences.nextEnd(text, from)) >= 0) {
      found.add(text.substring(from, end).strip());
      from = end;
    }
    assertThat(found).containsExactly("It costs 3.5 rupees.", "Really?", "آپ کیسے ہیں؟", "ٹھیک ہے۔");
    assertThat(Sentences.contentWords("yeah, haan ok")).isZero();
    assertThat(Sentences.contentWords("wait stop")).isEqualTo(2);
    assertThat(Sentences.soundsFinished("i went to the", false)).isFalse();
    assertThat(Sentences.soundsFinished("i went to the market", false)).isTrue();
    assertThat(Sentences.soundsFinished("I went to the market", true)).isFalse();
    assertThat(Sentences.soundsFinished("I went to the market.", true)).isTrue();
  }

  @Test
  void firstClause_endsAtACommaAfterEnoughWords_notInsideNumbersOrTooEarly() {
    assertThat(Sentences.firstClauseEnd("How lovely, Lahore is", 2)).isEqualTo("How lovely,".length());
    assertThat(Sentences.firstClauseEnd("Well, Lahore is", 2)).isEqualTo(-1); // one word: wait for the sentence
    assertThat(Sentences.firstClauseEnd("It costs 1,500 rupees", 2)).isEqualTo(-1);
    assertThat(Sentences.firstClauseEnd("How lovely,", 2)).isEqualTo(-1); // the next word may still be glued to it
    assertThat(Sentences.firstClauseEnd("اچھا جی، آپ کیسے", 2)).isEqualTo("اچھا جی،".length());
  }
}
