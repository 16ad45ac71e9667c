package dev.yaad.voice;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * English speech-to-text with CMU PocketSphinx (Debian's {@code libpocketsphinx3}, the
 * "5prealpha" C API: {@code cmd_ln_init}, {@code ps_init}, {@code ps_start_utt},
 * {@code ps_process_raw}, {@code ps_end_utt}, {@code ps_get_hyp}), called through JNA. A decoder
 * is not thread-safe and costs tens of megabytes, so decoders are pooled: one per concurrent
 * transcription, made on demand and kept. PocketSphinx writes no punctuation.
 *
 * <p>A decoder adapts to the audio it hears: its live cepstral mean normalisation carries an
 * estimate from one utterance to the next, and an utterance is heard better once it has one (on
 * flite's speech, 4 word errors in 67 against 8 from the model's default). The pooled decoders
 * share one estimate, so that how many there are (how many transcriptions ever overlapped, which
 * a busy machine changes) does not change what is heard: each utterance starts from the mean
 * the last finished one ended with (through sphinxbase's {@code cmn_live_get} and
 * {@code cmn_live_set}), an interrupted one leaves it as it was.
 */
final class PocketSphinx implements SpeechToText, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PocketSphinx.class);
  // Offsets in sphinxbase's public structs (feat.h, cmn.h) on x86-64: feat_t.cepsize,
  // feat_t.cmn_struct, cmn_t.veclen; checked against each other before use.
  private static final long FEAT_CEPSIZE = 16;
  private static final long FEAT_CMN = 88;
  private static final long CMN_VECLEN = 28;
  private static volatile boolean layoutReported;

  /** The C functions used, as in pocketsphinx.h / cmd_ln.h of 5prealpha. */
  interface Lib extends Library {
    Pointer ps_args();

    Pointer cmd_ln_init(Pointer inout, Pointer defn, int strict, Object... args);

    Pointer ps_init(Pointer config);

    int ps_start_utt(Pointer ps);

    int ps_process_raw(Pointer ps, short[] data, long samples, int noSearch, int fullUtt);

    int ps_end_utt(Pointer ps);

    String ps_get_hyp(Pointer ps, IntByReference score);

    int ps_free(Pointer ps);

    Pointer ps_get_feat(Pointer ps);

    void cmn_live_get(Pointer cmn, float[] mean);

    void cmn_live_set(Pointer cmn, float[] mean);
  }

  private final Lib lib;
  private final Path model;
  final ConcurrentLinkedQueue<Pointer> idle = new ConcurrentLinkedQueue<>(); // tests take one out to make the pool grow
  /** The cepstral mean the last finished transcription ended with; every decoder starts from it. */
  private volatile float[] cepstralMean;

  private PocketSphinx(Lib lib, Path model) {
    this.lib = lib;
    this.model = model;
  }

  /** The engine if libpocketsphinx and the English model are installed (one decoder made to prove it), else {@code null}. */
  static PocketSphinx load(Path model) {
    if (!Files.isDirectory(model.resolve("en-us")) || !Files.isRegularFile(model.resolve("en-us.lm.bin"))
        || !Files.isRegularFile(model.resolve("cmudict-en-us.dict"))) {
      log.debug("voice: no PocketSphinx English model under {}", model);
      return null;
    }
    Lib lib = null;
    for (String name : new String[] {"pocketsphinx", "libpocketsphinx.so.3"}) {
      try {
        lib = Native.load(name, Lib.class);
        break;
      } catch (UnsatisfiedLinkError e) {
        log.debug("voice: no {}: {}", name, e.getMessage());
      }
    }
    if (lib == null) {
      return null;
    }
    PocketSphinx engine = new PocketSphinx(lib, model);
    try {
      engine.idle.add(engine.decoder());
    } catch (EngineException e) {
      log.warn("voice: PocketSphinx is installed but does not start: {}", e.getMessage());
      return null;
    }
    return engine;
  }

  @Override
  public String name() {
    return "en (pocketsphinx)";
  }

  @Override
  public boolean supports(String language) {
    return language == null || language.equals("en");
  }

  @Override
  public Transcription transcribe(short[] pcm16k, String language, Consumer<String> partial) throws InterruptedException {
    Pointer ps = idle.poll();
    if (ps == null) {
      ps = decoder();
    }
    Pointer cmn = cmn(ps);
    try {
      float[] mean = cepstralMean;
      if (cmn != null && mean != null) {
        lib.cmn_live_set(cmn, mean);
      }
      if (lib.ps_start_utt(ps) < 0) {
        throw new EngineException("pocketsphinx: ps_start_utt failed");
      }
      int chunk = 16_000; // a second at a time, so an interrupt stops a long utterance soon
      for (int off = 0; off < pcm16k.length; off += chunk) {
        if (Thread.interrupted()) {
          lib.ps_end_utt(ps);
          throw new InterruptedException();
        }
        int n = Math.min(chunk, pcm16k.length - off);
        short[] part = off == 0 && n == pcm16k.length ? pcm16k : java.util.Arrays.copyOfRange(pcm16k, off, off + n);
        if (lib.ps_process_raw(ps, part, n, 0, 0) < 0) {
          lib.ps_end_utt(ps);
          throw new EngineException("pocketsphinx: ps_process_raw failed");
        }
      }
      lib.ps_end_utt(ps);
      if (Thread.interrupted()) {
        throw new InterruptedException(); // dropped while ending: what it heard must not move the shared mean
      }
      if (cmn != null) {
        float[] after = new float[cmn.getInt(CMN_VECLEN)];
        lib.cmn_live_get(cmn, after);
        cepstralMean = after;
      }
      String hyp = lib.ps_get_hyp(ps, new IntByReference());
      return new Transcription(hyp == null ? "" : hyp.strip(), "en", false);
    } finally {
      idle.add(ps);
    }
  }

  /** The decoder's live CMN state, or {@code null} (said once) if the library's layout is not the expected one. */
  private Pointer cmn(Pointer ps) {
    Pointer feat = lib.ps_get_feat(ps);
    Pointer cmn = feat == null ? null : feat.getPointer(FEAT_CMN);
    int cepsize = feat == null ? -1 : feat.getInt(FEAT_CEPSIZE);
    if (cmn != null && cepsize > 0 && cepsize <= 64 && cmn.getInt(CMN_VECLEN) == cepsize) {
      return cmn;
    }
    if (!layoutReported) {
      layoutReported = true;
      log.warn("voice: PocketSphinx's feature layout is not the expected one; each decoder keeps its own cepstral mean");
    }
    return null;
  }

  private Pointer decoder() {
    Pointer config = lib.cmd_ln_init(null, lib.ps_args(), 1,
        "-hmm", model.resolve("en-us").toString(),
        "-lm", model.resolve("en-us.lm.bin").toString(),
        "-dict", model.resolve("cmudict-en-us.dict").toString(),
        "-logfn", "/dev/null",
        null);
    if (config == null) {
      throw new EngineException("pocketsphinx: cannot configure a decoder with the model in " + model);
    }
    Pointer ps = lib.ps_init(config);
    if (ps == null) {
      throw new EngineException("pocketsphinx: cannot start a decoder with the model in " + model);
    }
    return ps;
  }

  @Override
  public void close() {
    Pointer ps;
    while ((ps = idle.poll()) != null) {
      lib.ps_free(ps);
    }
  }
}
