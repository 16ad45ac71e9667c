package dev.yaad.agent;

import dev.yaad.agent.learning.Learned;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** Records what a session told its listeners, and flags any delta after CLOSING. */
final class Recorder implements SessionListener {
  final List<String> events = new CopyOnWriteArrayList<>();
  final List<String> deltas = new CopyOnWriteArrayList<>();
  final List<String> tools = new CopyOnWriteArrayList<>();
  /** What tools changed, each as "after <the last tool reported>: added|updated <content>" or "...: deleted <id>". */
  final List<String> learned = new CopyOnWriteArrayList<>();
  final AtomicBoolean closing = new AtomicBoolean();
  final AtomicBoolean deltaAfterClosing = new AtomicBoolean();

  @Override
  public void onStateChanged(Session session, SessionState from, SessionState to) {
    events.add(from + "->" + to);
    if (to == SessionState.CLOSING) {
      closing.set(true);
    }
  }

  @Override
  public void onSpeechStarted(Session session, Speech speech) {
    events.add("start " + speech.kind());
  }

  @Override
  public void onDelta(Session session, Speech speech, String text) {
    if (closing.get()) {
      deltaAfterClosing.set(true);
    }
    deltas.add(text);
  }

  @Override
  public void onSpeechEnded(Session session, Speech speech) {
    events.add("end " + speech.kind() + " " + speech.outcome());
  }

  @Override
  public void onToolCall(Session session, Speech speech, String tool, Duration latency, boolean ok) {
    tools.add(tool + (ok ? "" : " (error)"));
  }

  @Override
  public void onLearned(Session session, Speech speech, Learned change) {
    String after = "after " + (tools.isEmpty() ? "no tool" : tools.getLast()) + ": ";
    change.added().forEach(m -> learned.add(after + "added " + m.content()));
    change.updated().forEach(m -> learned.add(after + "updated " + m.content()));
    change.deleted().forEach(id -> learned.add(after + "deleted " + id));
    if (!change.userId().equals(session.userId()) || change.profile() != null) {
      learned.add("wrong: " + change);
    }
  }
}
