package dev.yaad.voice;

import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.SessionState;
import dev.yaad.agent.Speech;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link VoiceSession}: resample → VAD → end of turn → speech-to-text → {@link Session#reply}
 * → sentences → text-to-speech → {@link AudioOut}, with barge-in.
 *
 * <p>Threads: {@link #accept} queues the caller's audio and returns; the session's {@link VadLane}
 * resamples it and runs the VAD on {@link Voice}'s platform VAD threads ({@link VadThreads}, batched
 * with other sessions' windows), frame after frame in arrival order (the ONNX call is native: on a
 * virtual thread it would hold a carrier that the sessions' provider calls wait for); each utterance is transcribed
 * on a virtual thread, started at the first pause of {@value #SPECULATE_AFTER_MS} ms (before the
 * VAD has decided that the speech ended), and what follows the transcript runs on that thread;
 * endpointing waits are timers on {@link Voice}'s scheduler; each reply's
 * sentences are synthesised, one after another, by one virtual thread. Turn state is guarded by
 * {@code this}; a reply's audio state by its {@link Reply}. Calls into the {@link Session} are made
 * holding neither, since the session calls this listener back under its own lock.
 */
final class VoicePipeline implements VoiceSession, SessionListener {
  private static final Logger log = LoggerFactory.getLogger(VoicePipeline.class);
  private static final int RATE = SileroVad.RATE;
  /** Audio kept from before the VAD's start decision, so the first syllable reaches speech-to-text. */
  private static final int PREROLL = RATE * 300 / 1000;
  private static final Object END = new Object();
  /**
   * A pause this long starts transcribing the utterance so far, before the VAD's end decision
   * ({@code vadMinSilence} later): speech-to-text then runs inside the endpointing wait instead
   * of after most of it. Speech that goes on drops that transcription (one more request).
   */
  static final long SPECULATE_AFTER_MS = 100;

  private final Voice voice;
  private final VoiceConfig config;
  private final Session session;
  private final Consumer<VoiceEvent> events;
  private final AudioOut out;
  private final int outRate;
  private final Resampler in;
  private final SileroVad vad;
  private final short[] ring = new short[RATE * 2]; // the last 2 s of input, for the pre-roll
  private final int maxUtterance;
  private long position; // 16 kHz samples received
  private long frameNanos; // when the frame being processed arrived
  private volatile boolean closed;
  private final VadLane lane;

  // Input side, on the VAD lane only (one frame at a time).
  private short[] utterance = new short[RATE * 4];
  private int utteranceLength;
  private boolean collecting;
  private boolean tooLongReported;
  private Transcribing speculation; // started at a pause of the current utterance, or null

  // Turn state, guarded by this.
  private Turn turn; // the user's turn being assembled, or null
  private boolean userSpeaking;
  private boolean bargeCandidate; // the current utterance began while the companion spoke
  private boolean noSttReported;
  private int turns;
  private final List<Transcribing> transcribing = new ArrayList<>();
  private Turn committing; // handed to session.reply; picked up by onSpeechStarted

  private volatile Reply reply;

  VoicePipeline(Voice voice, Session session, Consumer<VoiceEvent> events, AudioOut out, int inRate, int outRate) {
    this.voice = voice;
    this.config = voice.config();
    this.session = session;
    this.events = events;
    this.out = out;
    this.outRate = outRate;
    this.in = inRate == RATE ? null : new Resampler(inRate, RATE);
    this.maxUtterance = (int) Math.min(Integer.MAX_VALUE / 2, config.maxUtterance().toMillis() * RATE / 1000);
    this.vad = new SileroVad(voice.vad(), config.vadThreshold(), config.vadMinSilence().toMillis(), new SileroVad.Listener() {
      @Override
      public void speechStarted(long startSample) {
        onSpeechStart(startSample);
      }

      @Override
      public void speaking(long voicedSamples) {
        onSpeaking(voicedSamples);
      }

      @Override
      public void pausing(long lastVoicedSample, long silentSamples) {
        onPause(lastVoicedSample, silentSamples);
      }

      @Override
      public void speechEnded(long startSample, long endSample) {
        onSpeechEnd(startSample, endSample);
      }
    });
    this.lane = new VadLane(voice.vadThreads(), this::frame, vad, () -> closed, session.id());
    session.addListener(this);
  }

  // ------------------------------------------------------------------ audio in

  @Override
  public void accept(short[] pcm) {
    if (closed || pcm.length == 0) {
      return;
    }
    lane.add(pcm);
  }

  /** One frame, on the lane: resample and keep it; the lane runs the VAD over what this returns. */
  private short[] frame(short[] pcm, long arrivedNanos) {
    frameNanos = arrivedNanos;
    short[] pcm16 = in == null ? pcm : in.process(pcm);
    for (short s : pcm16) {
      ring[(int) (position++ % ring.length)] = s;
    }
    if (collecting) {
      append(pcm16, 0, pcm16.length);
    }
    return pcm16;
  }

  private void append(short[] pcm, int from, int n) {
    int room = maxUtterance - utteranceLength;
    if (n > room) {
      if (!tooLongReported) {
        tooLongReported = true;
        emit(new VoiceEvent.Error("utterance_too_long", "an utterance longer than "
            + config.maxUtterance().toMillis() + " ms is cut there for speech-to-text"));
      }
      n = Math.max(room, 0);
    }
    if (utteranceLength + n > utterance.length) {
      utterance = Arrays.copyOf(utterance, Math.min(maxUtterance, Math.max(utterance.length * 2, utteranceLength + n)));
    }
    System.arraycopy(pcm, from, utterance, utteranceLength, n);
    utteranceLength += n;
  }

  private void onSpeechStart(long startSample) {
    // The ring holds everything up to the end of the current frame, which accept() has not yet
    // appended: take it from the pre-roll before the start on.
    long from = Math.max(Math.max(0, startSample - PREROLL), position - ring.length);
    utteranceLength = 0;
    tooLongReported = false;
    collecting = true;
    dropSpeculation();
    short[] preroll = new short[(int) (position - from)];
    for (int i = 0; i < preroll.length; i++) {
      preroll[i] = ring[(int) ((from + i) % ring.length)];
    }
    append(preroll, 0, preroll.length);
    boolean companionSpeaking = isSpeaking();
    synchronized (this) {
      userSpeaking = true;
      bargeCandidate = companionSpeaking;
      if (turn != null && turn.timer != null) {
        turn.timer.cancel(false); // they go on speaking: the turn is not over
        turn.timer = null;
      }
    }
    emit(new VoiceEvent.SpeechStarted(startSample * 1000 / RATE));
  }

  private void onSpeaking(long voicedSamples) {
    dropSpeculation(); // speech goes on after a pause: what was transcribed is not the utterance
    boolean barge;
    synchronized (this) {
      barge = bargeCandidate && voicedSamples * 1000 / RATE >= config.bargeInMinSpeech().toMillis();
      if (barge) {
        bargeCandidate = false; // decided: this utterance is a turn
      }
    }
    if (barge) {
      bargeIn();
    }
  }

  /** A pause in the speech: transcribe what was said so far, in case the VAD ends the utterance here. */
  private void onPause(long lastVoicedSample, long silentSamples) {
    if (!collecting || silentSamples * 1000 / RATE < SPECULATE_AFTER_MS
        || (speculation != null && speculation.lastVoiced == lastVoicedSample)) {
      return;
    }
    dropSpeculation();
    String language = Languages.primary(session.language());
    SpeechToText stt = voice.stt(language);
    if (stt != null) {
      speculation = transcribe(stt, Arrays.copyOf(utterance, utteranceLength), language, lastVoicedSample);
    }
  }

  private void dropSpeculation() {
    if (speculation != null) {
      speculation.cancel();
      speculation = null;
    }
  }

  private void onSpeechEnd(long startSample, long endSample) {
    collecting = false;
    short[] audio = Arrays.copyOf(utterance, utteranceLength);
    if (utterance.length > RATE * 4) {
      utterance = new short[RATE * 4]; // a long utterance's buffer is not kept for the whole call
    }
    // From the frame's arrival, not from now: time it waited for the lane is Yaad's, and counts in end to end.
    long endNanos = frameNanos - (position - endSample) * 1_000_000_000L / RATE;
    emit(new VoiceEvent.SpeechEnded(endSample * 1000 / RATE, (endSample - startSample) * 1000 / RATE));
    String language = Languages.primary(session.language());
    SpeechToText stt = voice.stt(language);
    Transcribing job = speculation;
    speculation = null;
    if (job != null && (job.lastVoiced != endSample || job.stt != stt || !Objects.equals(job.language, language))) {
      job.cancel();
      job = null;
    }
    boolean candidate;
    Turn t;
    synchronized (this) {
      userSpeaking = false;
      candidate = bargeCandidate;
      bargeCandidate = false;
      if (stt == null) {
        if (!noSttReported) {
          noSttReported = true;
          emit(new VoiceEvent.Error("no_stt", "no speech-to-text engine for language "
              + (language == null ? "(any)" : language) + "; type instead"));
        }
        return;
      }
      if (candidate) {
        t = null; // a short sound while the companion speaks: a turn only if its words say so
      } else {
        t = openTurn(endNanos);
      }
    }
    Transcribing mine = job != null ? job : transcribe(stt, audio, language, endSample);
    if (mine.result.isDone()) { // transcribed during the pause: go on off the transport's thread
      Thread.ofVirtual().name("yaad-voice-stt").start(() -> transcribed(mine, audio.length, endNanos, t));
    } else { // on the transcribing thread, when it is done
      mine.result.whenComplete((r, e) -> transcribed(mine, audio.length, endNanos, t));
    }
  }

  /** The turn this utterance belongs to (the open one, or a new one); caller holds this. */
  private Turn openTurn(long endNanos) {
    if (turn == null) {
      turn = new Turn("v-" + ++turns);
    }
    turn.pendingStt++;
    turn.speechEndNanos = endNanos;
    long delay = config.minEndpointingDelay().toNanos() - (System.nanoTime() - endNanos);
    schedule(turn, Math.max(0, delay));
    return turn;
  }

  /** Starts transcribing {@code audio} on a virtual thread. */
  private Transcribing transcribe(SpeechToText stt, short[] audio, String language, long lastVoiced) {
    Transcribing job = new Transcribing(stt, language, lastVoiced);
    job.thread = Thread.ofVirtual().name("yaad-voice-stt").unstarted(() -> {
      try {
        SpeechToText.Transcription result = stt.transcribe(audio, language, partial -> {
          if (!closed && !job.cancelled) {
            emit(new VoiceEvent.Transcript(partial, false, language));
          }
        });
        job.doneNanos = System.nanoTime();
        job.result.complete(result);
      } catch (Throwable e) { // the waiting side reports it
        job.doneNanos = System.nanoTime();
        job.result.completeExceptionally(e);
      } finally {
        synchronized (this) {
          transcribing.remove(job);
        }
      }
    });
    synchronized (this) {
      if (closed) {
        job.result.completeExceptionally(new InterruptedException("closed"));
        return job;
      }
      transcribing.add(job);
    }
    job.thread.start();
    return job;
  }

  /** An utterance's transcription is done: the turn's text, or a barge-in's words; then the end of turn. */
  private void transcribed(Transcribing job, int samples, long endNanos, Turn t) {
    SpeechToText.Transcription result = null;
    try {
      result = job.result.join();
    } catch (CompletionException | CancellationException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof InterruptedException || closed) {
        return;
      }
      if (cause instanceof EngineException) {
        emit(new VoiceEvent.Error("stt_failed", cause.getMessage()));
        log.warn("voice {}: speech-to-text failed: {}", session.id(), cause.getMessage());
      } else {
        emit(new VoiceEvent.Error("stt_failed", "speech-to-text failed: " + cause));
        log.warn("voice {}: speech-to-text failed", session.id(), cause);
      }
    }
    if (closed) {
      return;
    }
    long sttMs = (job.doneNanos - job.startNanos) / 1_000_000;
    String text = result == null ? "" : result.text().strip();
    Turn into = t;
    if (into == null) { // a short utterance during the companion's speech
      if (Sentences.contentWords(text) < config.bargeInMinWords()) {
        log.debug("voice {}: not a barge-in: {} ms of speech, {} content words", session.id(),
            samples * 1000L / RATE, Sentences.contentWords(text));
        return;
      }
      bargeIn();
      synchronized (this) {
        into = openTurn(endNanos);
      }
    }
    if (!text.isEmpty()) {
      emit(new VoiceEvent.Transcript(text, true, result.language()));
    }
    synchronized (this) {
      if (!text.isEmpty()) {
        into.text.append(into.text.isEmpty() ? "" : " ").append(text);
      }
      into.pendingStt--;
      into.sttMs = sttMs;
      into.transcribedNanos = job.doneNanos;
      into.punctuated = result != null && result.punctuated();
    }
    evaluate(into);
  }

  // ------------------------------------------------------------------ end of turn

  /** The turn's end: speech ended + [min, max] delay, and every transcription of it done. */
  private void evaluate(Turn t) {
    String text;
    synchronized (this) {
      if (closed || t != turn || userSpeaking || t.pendingStt > 0) {
        return;
      }
      long waited = System.nanoTime() - t.speechEndNanos;
      long min = config.minEndpointingDelay().toNanos();
      long max = config.maxEndpointingDelay().toNanos();
      if (waited < min) {
        schedule(t, min - waited);
        return;
      }
      if (waited < max && !Sentences.soundsFinished(t.text.toString(), t.punctuated)) {
        schedule(t, max - waited);
        return;
      }
      turn = null;
      text = t.text.toString().strip();
      if (text.isEmpty()) {
        return;
      }
      t.committedNanos = System.nanoTime();
      committing = t;
    }
    try {
      session.reply(text, t.id); // onSpeechStarted picks the turn up, on this thread
    } finally {
      synchronized (this) {
        committing = null;
      }
    }
  }

  private void schedule(Turn t, long delayNanos) {
    if (t.timer != null) {
      t.timer.cancel(false);
    }
    t.timer = voice.scheduler().schedule(() -> Thread.ofVirtual().start(() -> evaluate(t)), delayNanos, TimeUnit.NANOSECONDS);
  }

  // ------------------------------------------------------------------ the companion speaks

  @Override
  public void onSpeechStarted(Session s, Speech speech) {
    Turn t;
    synchronized (this) {
      t = committing != null && speech.kind() == Speech.Kind.REPLY ? committing : null;
      committing = null;
    }
    Reply previous = reply;
    if (previous != null) {
      previous.stop(false); // a typed turn or a say() took over: its audio ends here
    }
    if (closed) {
      return;
    }
    Reply r = new Reply(speech, t);
    reply = r;
    r.worker = Thread.ofVirtual().name("yaad-voice-tts").start(r::speak);
  }

  @Override
  public void onDelta(Session s, Speech speech, String text) {
    Reply r = reply;
    if (r != null && r.speech == speech) {
      r.text(text);
    }
  }

  @Override
  public void onSpeechEnded(Session s, Speech speech) {
    Reply r = reply;
    if (r != null && r.speech == speech) {
      r.textDone(speech.outcome());
    }
  }

  @Override
  public void onStateChanged(Session s, SessionState from, SessionState to) {
    if (to == SessionState.CLOSING) {
      close();
    }
  }

  /** The companion is speaking, or about to: a reply is under way or its audio still plays. */
  private boolean isSpeaking() {
    Reply r = reply;
    return r != null && !r.stopped && (!r.handedOut || out.queuedMillis() > 0);
  }

  /** The user barged in: stop the audio now, cancel the reply, keep what was heard. */
  private void bargeIn() {
    Reply r = reply;
    if (r == null || r.stopped || (r.handedOut && out.queuedMillis() <= 0)) {
      return;
    }
    r.stop(true);
  }

  private void emit(VoiceEvent event) {
    synchronized (events) {
      try {
        events.accept(event);
      } catch (RuntimeException e) {
        log.warn("voice {}: the event consumer failed on {}: {}", session.id(), event.type(), e.toString());
      }
    }
  }

  @Override
  public void close() {
    List<Transcribing> jobs;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (turn != null && turn.timer != null) {
        turn.timer.cancel(false);
      }
      turn = null;
      jobs = new ArrayList<>(transcribing);
    }
    jobs.forEach(Transcribing::cancel);
    session.removeListener(this);
    Reply r = reply;
    if (r != null) {
      r.stop(false);
    }
  }

  /** A user turn being assembled from one or more utterances. */
  private static final class Turn {
    final String id;
    final StringBuilder text = new StringBuilder();
    int pendingStt;
    long speechEndNanos;
    Long sttMs;
    long transcribedNanos;
    boolean punctuated;
    long committedNanos;
    ScheduledFuture<?> timer;

    Turn(String id) {
      this.id = id;
    }
  }

  /** One transcription of an utterance, started at a pause of it or at its end. */
  private static final class Transcribing {
    final SpeechToText stt;
    final String language;
    final long lastVoiced; // the utterance it transcribes ends here (16 kHz samples)
    final long startNanos = System.nanoTime();
    volatile long doneNanos;
    volatile boolean cancelled;
    final CompletableFuture<SpeechToText.Transcription> result = new CompletableFuture<>();
    Thread thread;

    Transcribing(SpeechToText stt, String language, long lastVoiced) {
      this.stt = stt;
      this.language = language;
      this.lastVoiced = lastVoiced;
    }

    void cancel() {
      cancelled = true;
      if (thread != null) {
        thread.interrupt();
      }
    }
  }

  /** Where a reply's audio is in its text: samples [startSample, endSample) speak chars [startChar, endChar). */
  private record Segment(long startSample, long endSample, int startChar, int endChar) {}

  /** A reply's first clause this long (in words) is spoken on its own, before its sentence is complete. */
  static final int FIRST_CLAUSE_MIN_WORDS = 2;

  /** How far ahead of playback a reply's audio is handed to the {@link AudioOut}. */
  static final long MAX_AHEAD_MS = 1000;

  /** One greeting, reply or say: its text split into sentences, spoken one after another. */
  private final class Reply {
    final Speech speech;
    final Turn turn;
    final StringBuilder text = new StringBuilder(); // all deltas; guarded by this
    final LinkedBlockingQueue<Object> sentences = new LinkedBlockingQueue<>(); // int[]{start, end} or END
    final List<Segment> segments = new ArrayList<>(); // guarded by this
    int split; // text before this is queued as sentences; guarded by this
    long samplesOut; // guarded by this
    volatile boolean stopped;
    volatile boolean handedOut;
    boolean audioStarted; // guarded by this
    boolean reported; // metrics sent; guarded by this
    long heardMs = -1; // a barge-in's: what was heard (ms, text); guarded by this
    String heardText;
    boolean ttsFailed;
    Thread worker;
    long firstSentenceNanos;
    long firstAudioNanos;

    Reply(Speech speech, Turn turn) {
      this.speech = speech;
      this.turn = turn;
    }

    synchronized void text(String delta) {
      text.append(delta);
      int end;
      while ((end = Sentences.nextEnd(text, split)) >= 0) {
        sentences.add(new int[] {split, end});
        split = end;
      }
      if (split == 0 && (end = Sentences.firstClauseEnd(text, FIRST_CLAUSE_MIN_WORDS)) > 0) {
        sentences.add(new int[] {0, end}); // the first audio need not wait for the whole first sentence
        split = end;
      }
    }

    synchronized void textDone(Speech.Outcome outcome) {
      if (split < text.length()) {
        sentences.add(new int[] {split, text.length()});
        split = text.length();
      }
      sentences.add(END);
      if (outcome == Speech.Outcome.CANCELLED) {
        stop(false);
      }
    }

    /** The worker: sentence after sentence to text-to-speech and out. */
    void speak() {
      try {
        while (!stopped) {
          Object next = sentences.take();
          if (next == END) {
            break;
          }
          int[] range = (int[]) next;
          String sentence;
          synchronized (this) {
            sentence = text.substring(range[0], range[1]).strip();
          }
          if (sentence.isEmpty() || ttsFailed) {
            continue;
          }
          say(sentence, range);
        }
        handedOut = true;
        // The audio ends when it has played out, as far as the transport can tell: until then a
        // barge-in can still cut it, and its metrics must say so.
        long queued;
        while (!stopped && (queued = out.queuedMillis()) > 0) {
          Thread.sleep(Math.min(queued, 50));
        }
      } catch (InterruptedException e) {
        return; // stopped
      }
      finish();
    }

    private void say(String sentence, int[] range) throws InterruptedException {
      String language = Languages.forText(session.language(), sentence);
      TextToSpeech tts = voice.tts(language);
      if (tts == null) {
        ttsFailed = true;
        emit(new VoiceEvent.Error("no_tts", "no text-to-speech engine for language " + language + "; the reply is text only"));
        return;
      }
      if (firstSentenceNanos == 0) {
        firstSentenceNanos = System.nanoTime();
      }
      long start;
      synchronized (this) {
        start = samplesOut;
        segments.add(new Segment(start, start, range[0], range[1]));
      }
      try {
        tts.synthesize(sentence, language, outRate, pcm -> play(pcm, range));
      } catch (EngineException e) {
        ttsFailed = true;
        emit(new VoiceEvent.Error("tts_failed", e.getMessage()));
        log.warn("voice {}: text-to-speech failed; the reply goes on as text: {}", session.id(), e.getMessage());
      } catch (RuntimeException e) {
        ttsFailed = true;
        emit(new VoiceEvent.Error("tts_failed", "text-to-speech failed: " + e));
        log.warn("voice {}: text-to-speech failed", session.id(), e);
      }
    }

    private void play(short[] pcm, int[] range) {
      // Hand out at most MAX_AHEAD_MS more than has played: the transport's queue is bounded in
      // bytes (a long reply at 48 kHz would not fit), and what is not handed out yet is what a
      // barge-in need not take back.
      while (!stopped && out.queuedMillis() > MAX_AHEAD_MS) {
        java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        if (Thread.currentThread().isInterrupted()) {
          return; // stopped
        }
      }
      synchronized (this) {
        if (stopped || pcm.length == 0) {
          return;
        }
        if (!audioStarted) {
          audioStarted = true;
          firstAudioNanos = System.nanoTime();
          // Before the audio: a transport that sends events ahead of audio then never delivers a
          // frame of this reply before its audio_started (a client would take it for the last one's).
          emit(new VoiceEvent.AudioStarted(speech.id()));
        }
        out.play(pcm);
        samplesOut += pcm.length;
        Segment last = segments.getLast();
        segments.set(segments.size() - 1, new Segment(last.startSample(), samplesOut, range[0], range[1]));
      }
    }

    /**
     * Stops its audio at once. For a barge-in, works out what was heard and tells the client and
     * the session; otherwise (close, another speech took over) just ends the audio.
     */
    void stop(boolean bargeIn) {
      boolean alreadyReported;
      synchronized (this) {
        if (stopped) {
          return;
        }
        stopped = true;
        long queued = out.queuedMillis(); // before stop(), which empties the queue
        out.stop();
        if (bargeIn) {
          long sentMs = samplesOut * 1000 / outRate;
          heardMs = Math.max(0, sentMs - Math.max(0, queued));
          heardText = heard(heardMs * outRate / 1000);
        }
        alreadyReported = reported;
      }
      if (worker != null) {
        worker.interrupt(); // its finish() may run before ours: whichever runs first reports the barge-in
      }
      if (bargeIn) {
        if (alreadyReported) { // the audio had ended just before: still say what was heard
          emit(new VoiceEvent.Interrupted(speech.id(), heardMs, heardText));
        }
        session.interrupted(speech, heardText);
        log.debug("voice {}: barge-in on {} after {} ms heard", session.id(), speech.id(), heardMs);
      }
      finish();
    }

    /**
     * The text up to {@code sample}: every sentence whose audio was all heard, then of the sentence
     * being played the share of its characters that its share of audio heard gives, cut back to a
     * word boundary. Caller holds this.
     */
    private String heard(long sample) {
      int cut = 0;
      for (Segment s : segments) {
        if (sample >= s.endSample() && s.endSample() > s.startSample()) {
          cut = s.endChar();
        } else if (sample > s.startSample() && s.endSample() > s.startSample()) {
          double share = (double) (sample - s.startSample()) / (s.endSample() - s.startSample());
          int at = s.startChar() + (int) Math.floor(share * (s.endChar() - s.startChar()));
          while (at > s.startChar() && !Character.isWhitespace(text.charAt(at - 1)) && !Character.isWhitespace(text.charAt(at))) {
            at--;
          }
          cut = at;
          break;
        } else {
          break;
        }
      }
      return text.substring(0, cut).strip();
    }

    /** Once per reply: a barge-in's {@code interrupted}, then the audio's end and the turn's metrics. */
    private void finish() {
      long heard;
      String text;
      long audioMs;
      synchronized (this) {
        if (reported) {
          return;
        }
        reported = true;
        audioMs = samplesOut * 1000 / outRate;
        heard = heardMs;
        text = heardText;
      }
      boolean interrupted = heard >= 0;
      if (interrupted) {
        emit(new VoiceEvent.Interrupted(speech.id(), heard, text));
      }
      if (audioStarted || interrupted) {
        emit(new VoiceEvent.AudioEnded(speech.id(), audioMs, interrupted || stopped));
      }
      Long eou = turn == null ? null : ms(turn.committedNanos - turn.speechEndNanos);
      Long llm = speech.firstDeltaLatency() == null ? null : speech.firstDeltaLatency().toMillis();
      Long tts = firstAudioNanos == 0 ? null : ms(firstAudioNanos - firstSentenceNanos);
      Long e2e = turn == null || firstAudioNanos == 0 ? null : ms(firstAudioNanos - turn.speechEndNanos);
      Long transcript = turn == null || turn.transcribedNanos == 0 ? null : ms(turn.transcribedNanos - turn.speechEndNanos);
      Long sentence = turn == null || firstSentenceNanos == 0 ? null : ms(firstSentenceNanos - turn.committedNanos);
      VoiceEvent.TurnMetrics m = new VoiceEvent.TurnMetrics(speech.id(), eou, turn == null ? null : turn.sttMs, transcript,
          llm, sentence, tts, e2e, interrupted, interrupted ? heard : null);
      voice.metrics().turn(m);
      emit(m);
      log.info("voice {}: {} eou {} ms (transcript {} ms), stt {} ms, llm {} ms (first sentence {} ms), tts {} ms, end to end {} ms{}",
          session.id(), speech.id(), eou, transcript, m.sttMs(), llm, sentence, tts, e2e,
          interrupted ? ", interrupted after " + heard + " ms heard" : "");
    }

    private static Long ms(long nanos) {
      return nanos / 1_000_000;
    }
  }
}
