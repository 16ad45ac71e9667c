// Yaad's companion page: chat over the session WebSocket; voice on the server (the microphone
// streamed as PCM over the same socket, replies played back from it) when the server has speech
// engines, else through the browser's own speech recognition and synthesis; and a side panel of
// what the companion remembers (REST).
// No build step and no third-party code: this file is served as it is from the server's jar.
// The protocol it speaks is written down in docs/api.md ("Sessions (WebSocket)").

import { WebRtcVoice } from './webrtc.js';

const $ = (id) => document.getElementById(id);
// Every string a person reads, in the languages the selector offers: the interface follows the
// chosen language (and its direction), not only the conversation.
const LANGS = {
  'en-US': {
    dir: 'ltr', placeholder: 'Say something…', send: 'Send',
    tagline: 'a companion that remembers', language: 'Language', speakReplies: 'Speak replies',
    speakRepliesTitle: 'Speak replies aloud', handsFree: 'Hands-free',
    handsFreeTitle: 'Listen continuously; pauses while the companion speaks', holdToTalk: 'Hold to talk',
    youAre: 'You are', reload: 'Reload memories', aboutYou: 'About you', whatIRemember: 'What I remember',
    profileEmpty: 'Nothing yet. As you talk, Yaad writes a short note about you here.',
    noMemories: 'No memories yet.', newUser: (u) => 'Nothing remembered about "' + u + '" yet. Talk, and Yaad will learn.',
    couldNotLoad: (why) => 'Could not load memories: ' + why,
    ready: 'ready', listening: 'listening…', thinking: 'thinking…', speaking: 'speaking…',
    memoriesOnly: 'memories only', connecting: 'connecting…', llmDown: 'the language model is not answering',
    voiceHint: 'Hold the mic (or the space bar) to talk.', voiceHintTouch: 'Hold the mic to talk.',
    noVoice: 'This browser has no speech recognition: type instead (voice works in Chrome and Edge).',
    serverVoiceHint: 'Voice on the server: hold the mic (or the space bar), or turn on hands-free and just talk.',
    micRefused: 'Microphone access was refused.',
    forget: 'Forget', forgetTitle: 'Forget this memory', forgetConfirm: 'Forget?', forgotten: 'Forgotten.',
    couldNotForget: (why) => 'Could not forget it: ' + why,
    replyFailed: 'Your companion could not answer: the language model did not respond. Say it again in a moment.',
    greetingFailed: 'Your companion could not greet you: the language model did not respond. Say something to try again.',
    stillConnecting: 'Still connecting to your companion; one moment, then say it again.',
    serverDown: 'The server did not answer.', needsLlm: 'Conversation needs an LLM: see the note above.',
    notAvailable: 'Conversation is not available on this server yet; memory browsing works.',
    reconnecting: 'Not connected to the companion right now; trying again…',
    learned: (n) => 'I\u2019ll remember that (' + n + (n === 1 ? ' memory' : ' memories') + ').',
    profileUpdated: 'Updated what I know about you.', openServer: 'open server: no sign-in (local use only)',
    categories: {},
  },
  'ur-PK': {
    dir: 'rtl', placeholder: 'کچھ کہیے…', send: 'بھیجیں',
    tagline: 'ایک ساتھی جو یاد رکھتا ہے', language: 'زبان', speakReplies: 'جواب بول کر سنائیں',
    speakRepliesTitle: 'جواب آواز میں سنائیں', handsFree: 'ہینڈز فری',
    handsFreeTitle: 'مسلسل سنتا رہے؛ ساتھی کے بولتے وقت رک جاتا ہے', holdToTalk: 'بات کرنے کے لیے دبائے رکھیں',
    youAre: 'آپ کون ہیں', reload: 'یادیں دوبارہ لوڈ کریں', aboutYou: 'آپ کے بارے میں', whatIRemember: 'مجھے کیا یاد ہے',
    profileEmpty: 'ابھی کچھ نہیں۔ جیسے جیسے آپ بات کریں گے، یاد یہاں آپ کے بارے میں ایک مختصر نوٹ لکھے گا۔',
    noMemories: 'ابھی کوئی یاد نہیں۔', newUser: (u) => '"' + u + '" کے بارے میں ابھی کچھ یاد نہیں۔ بات کیجیے، یاد سیکھ لے گا۔',
    couldNotLoad: (why) => 'یادیں لوڈ نہ ہو سکیں: ' + why,
    ready: 'تیار', listening: 'سن رہا ہے…', thinking: 'سوچ رہا ہے…', speaking: 'بول رہا ہے…',
    memoriesOnly: 'صرف یادیں', connecting: 'رابطہ ہو رہا ہے…', llmDown: 'زبان کا ماڈل جواب نہیں دے رہا',
    voiceHint: 'بات کرنے کے لیے مائیک (یا اسپیس بار) دبائے رکھیں۔', voiceHintTouch: 'بات کرنے کے لیے مائیک دبائے رکھیں۔',
    noVoice: 'اس براؤزر میں آواز کی پہچان نہیں: لکھ کر بات کیجیے (آواز Chrome اور Edge میں چلتی ہے)۔',
    serverVoiceHint: 'آواز سرور پر: مائیک (یا اسپیس بار) دبائے رکھیں، یا ہینڈز فری آن کر کے بس بولیے۔',
    micRefused: 'مائیک کی اجازت نہیں ملی۔',
    forget: 'بھول جائیں', forgetTitle: 'یہ یاد بھلا دیں', forgetConfirm: 'بھول جائیں؟', forgotten: 'بھلا دیا گیا۔',
    couldNotForget: (why) => 'بھلایا نہ جا سکا: ' + why,
    replyFailed: 'آپ کا ساتھی جواب نہ دے سکا: زبان کے ماڈل نے جواب نہیں دیا۔ ذرا دیر میں دوبارہ کہیے۔',
    greetingFailed: 'آپ کا ساتھی سلام نہ کر سکا: زبان کے ماڈل نے جواب نہیں دیا۔ کچھ کہہ کر دوبارہ کوشش کیجیے۔',
    stillConnecting: 'ابھی آپ کے ساتھی سے رابطہ ہو رہا ہے؛ ایک لمحہ رکیے، پھر دوبارہ کہیے۔',
    serverDown: 'سرور نے جواب نہیں دیا۔', needsLlm: 'بات چیت کے لیے LLM چاہیے: اوپر کا نوٹ دیکھیے۔',
    notAvailable: 'اس سرور پر ابھی بات چیت دستیاب نہیں؛ یادیں دیکھی جا سکتی ہیں۔',
    reconnecting: 'ابھی ساتھی سے رابطہ نہیں؛ دوبارہ کوشش ہو رہی ہے…',
    learned: (n) => 'میں یہ یاد رکھوں گا (' + n + (n === 1 ? ' یاد' : ' یادیں') + ')۔',
    profileUpdated: 'آپ کے بارے میں میری معلومات تازہ ہو گئیں۔', openServer: 'کھلا سرور: سائن اِن کے بغیر (صرف مقامی استعمال)',
    categories: { FACT: 'حقائق', GOAL: 'مقاصد', INTEREST: 'دلچسپیاں', EXPERIENCE: 'تجربات', PREFERENCE: 'پسند',
      PLAN: 'منصوبے', RELATIONSHIP: 'رشتے', OPINION: 'رائے' },
  },
};
/** The interface string `key` in the chosen language. */
const t = (key) => (LANGS[app.lang] || LANGS['en-US'])[key];
/** A person on a phone or tablet has no space bar to hold. */
const TOUCH = navigator.maxTouchPoints > 0 || window.matchMedia('(pointer: coarse)').matches;
const store = {
  get: (k, d) => { try { return localStorage.getItem(k) ?? d; } catch { return d; } },
  set: (k, v) => { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
};

const app = {
  config: null,          // GET /api/v1/config
  credential: null,      // session token or API key, or null on an open server
  userId: null,
  // The language chosen before, else the browser's: Urdu for an Urdu browser, English otherwise.
  lang: store.get('yaad.lang', (navigator.language || '').toLowerCase().startsWith('ur') ? 'ur-PK' : 'en-US'),
  socket: null,          // the Conversation, while there is one
  busy: false,           // a user turn is waiting for its first reply text
  speaking: false,       // speech synthesis is talking
  listening: false,      // speech recognition is on
  llmDown: false,        // the last greeting or reply failed because the LLM did not answer
};

// --- credentials ---------------------------------------------------------------------------

/** `?token=` wins (and is then taken out of the address bar), then this tab's saved one. */
function readCredential() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem('yaad.credential', fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  return sessionStorage.getItem('yaad.credential');
}

/** The user a session token names (its `sub`); null for anything that is not a JWT. */
function tokenUser(credential) {
  const parts = (credential || '').split('.');
  if (parts.length !== 3 || !parts[0].startsWith('eyJ')) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))).sub || null;
  } catch { return null; }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (app.credential) headers.Authorization = 'Bearer ' + app.credential;
  if (options.body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { askForCredential('Your session token was not accepted (it may have expired).'); }
  return response;
}

function userPath(suffix = '') {
  return '/api/v1/users/' + encodeURIComponent(app.userId) + suffix;
}

function askForCredential(reason) {
  const banner = $('auth-banner');
  banner.replaceChildren($('credential-form').content.cloneNode(true));
  if (reason) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = reason;
    banner.prepend(p);
  }
  banner.hidden = false;
  banner.querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const credential = String(form.get('credential')).trim();
    sessionStorage.setItem('yaad.credential', credential);
    const user = tokenUser(credential) || String(form.get('user') || '').trim();
    if (user) store.set('yaad.userId', user);
    location.reload();
  });
}

// --- state indicator ------------------------------------------------------------------------

function renderState() {
  let state = 'idle';
  let text = t('ready');
  if (app.listening) { state = 'listening'; text = t('listening'); }
  else if (app.busy) { state = 'thinking'; text = t('thinking'); }
  else if (app.speaking) { state = 'speaking'; text = t('speaking'); }
  else if (!app.socket) { state = 'offline'; text = t('memoriesOnly'); }
  else if (!app.socket.open || !app.socket.active) { state = 'offline'; text = t('connecting'); }
  // Not a green "ready" while the model is failing: until a reply gets through again.
  else if (app.llmDown) { state = 'degraded'; text = t('llmDown'); }
  const el = $('state');
  el.dataset.state = state;
  $('state-text').textContent = text;
}

// --- messages -------------------------------------------------------------------------------

function addMessage(kind, text) {
  const li = document.createElement('li');
  li.className = 'msg ' + kind;
  li.dir = 'auto';
  li.textContent = text;
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function notice(id, html, kind = '') {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('div');
    el.id = id;
    el.className = 'notice ' + kind;
    $('notices').append(el);
  }
  el.innerHTML = html;
  return el;
}

function toast(text) {
  let el = document.querySelector('.toast');
  if (!el) { el = document.createElement('div'); el.className = 'toast'; document.body.append(el); }
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 2500);
}

// --- memory panel ---------------------------------------------------------------------------

// Memories a `learned` message named stay marked new for FRESH_MS, through the refreshes that
// follow it (a profile update comes as its own `learned` message, at once).
const FRESH_MS = 4000;
const freshUntil = new Map(); // memory id -> Date.now() until which it is marked new
let refreshes = 0; // refreshes started; only the latest one draws the panel

async function refreshMemories(highlight = new Set()) {
  if (!app.userId) return;
  const now = Date.now();
  for (const [id, until] of freshUntil) if (until <= now) freshUntil.delete(id);
  for (const id of highlight) freshUntil.set(id, now + FRESH_MS);
  // Refreshes overlap when `learned` messages come close together, and their answers may come
  // in any order: an older snapshot drawn last would hide a memory that was just learned.
  const refresh = ++refreshes;
  const categories = (app.config && app.config.categories) || [];
  let snapshot = null;
  try {
    const response = await api(userPath('/snapshot?perCategory=50'));
    if (refresh !== refreshes) return; // a newer refresh, begun after this one, draws the panel
    if (response.ok) snapshot = await response.json();
    else if (response.status !== 404) throw new Error((await response.json()).message);
  } catch (e) {
    if (refresh !== refreshes) return;
    $('memories').innerHTML = '';
    $('memories').append(Object.assign(document.createElement('p'), { className: 'empty', textContent: t('couldNotLoad')(e.message) }));
    return;
  }
  const profile = $('profile');
  if (snapshot && snapshot.profile && snapshot.profile.content) {
    profile.textContent = snapshot.profile.content;
    profile.classList.remove('muted');
  } else {
    profile.textContent = t('profileEmpty');
    profile.classList.add('muted');
  }
  const container = $('memories');
  container.replaceChildren();
  let total = 0;
  for (const category of categories) {
    const items = (snapshot && snapshot.memories[category]) || [];
    if (!items.length) continue;
    total += items.length;
    const section = document.createElement('div');
    section.className = 'category';
    section.dataset.category = category;
    const h3 = document.createElement('h3');
    h3.append(document.createTextNode(title(category)));
    h3.append(Object.assign(document.createElement('span'), { className: 'count', textContent: String(items.length) }));
    const ul = document.createElement('ul');
    ul.className = 'items';
    for (const memory of items) ul.append(memoryItem(memory, (freshUntil.get(memory.id) || 0) - Date.now()));
    section.append(h3, ul);
    container.append(section);
  }
  if (!total) {
    // The snapshot of a first-time user is empty (not a 404): nothing remembered yet.
    container.append(Object.assign(document.createElement('p'), { className: 'empty', textContent: t('newUser')(app.userId) }));
  }
}

function title(category) {
  return t('categories')[category] || category.charAt(0) + category.slice(1).toLowerCase();
}

// A memory in the panel, marked new for the next freshMs ms if that is above 0.
function memoryItem(memory, freshMs) {
  const li = document.createElement('li');
  li.className = 'item' + (freshMs > 0 ? ' fresh' : '');
  li.dataset.id = memory.id;
  const text = document.createElement('span');
  text.className = 'text';
  text.dir = 'auto';
  text.textContent = memory.content;
  const forget = document.createElement('button');
  forget.type = 'button';
  forget.className = 'forget';
  forget.textContent = t('forget');
  forget.title = t('forgetTitle');
  forget.addEventListener('click', async () => {
    // Two clicks: a person should not lose a memory to a stray tap.
    if (!forget.classList.contains('confirm')) {
      forget.classList.add('confirm');
      forget.textContent = t('forgetConfirm');
      setTimeout(() => { forget.classList.remove('confirm'); forget.textContent = t('forget'); }, 4000);
      return;
    }
    forget.disabled = true;
    const response = await api(userPath('/memories/' + encodeURIComponent(memory.id)), { method: 'DELETE' });
    if (response.ok || response.status === 404) {
      li.remove();
      toast(t('forgotten'));
      refreshMemories();
    } else {
      forget.disabled = false;
      toast(t('couldNotForget')((await response.json()).message));
    }
  });
  li.append(text, forget);
  if (freshMs > 0) setTimeout(() => li.classList.remove('fresh'), freshMs);
  return li;
}

// --- speech out -----------------------------------------------------------------------------

const synth = window.speechSynthesis;
const speech = {
  pending: '',  // text of the current reply not yet handed to the synthesizer
  queued: 0,

  voice() {
    if (!synth) return null;
    const voices = synth.getVoices();
    const lang = app.lang.toLowerCase();
    return voices.find((v) => v.lang.toLowerCase() === lang)
      || voices.find((v) => v.lang.toLowerCase().startsWith(lang.slice(0, 2))) || null;
  },

  /** Speaks whole sentences as they arrive, so the voice starts before the reply is done. */
  feed(text, final) {
    if (!synth || !$('speak-replies').checked || serverVoice.speaks) return;
    this.pending += text;
    const cut = final ? this.pending.length : lastBoundary(this.pending);
    if (cut <= 0) return;
    const sentence = this.pending.slice(0, cut).trim();
    this.pending = this.pending.slice(cut);
    if (!sentence) return;
    const utterance = new SpeechSynthesisUtterance(sentence);
    utterance.lang = app.lang;
    const voice = this.voice();
    if (voice) utterance.voice = voice;
    this.queued++;
    app.speaking = true;
    pauseListening();
    utterance.onend = utterance.onerror = () => {
      if (--this.queued <= 0) { this.queued = 0; app.speaking = false; resumeListening(); renderState(); }
    };
    synth.speak(utterance);
    renderState();
  },

  stop() {
    this.pending = '';
    this.queued = 0;
    if (synth) synth.cancel();
    app.speaking = false;
    renderState();
  },
};

function lastBoundary(text) {
  // . ! ? and Urdu's full stop ۔ and question mark ؟, or a line break
  let at = -1;
  for (const m of text.matchAll(/[.!?۔؟\n](\s|$)/g)) at = m.index + 1;
  return at;
}

// --- speech in ------------------------------------------------------------------------------

const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
const voiceIn = { recognizer: null, mode: null, paused: false };

/** The mic controls and their hint: server voice, else the browser's recognition, else none. */
function renderVoiceControls() {
  const any = serverVoice.on || !!Recognition;
  $('ptt').disabled = !any;
  $('hands-free').disabled = !any;
  $('voice-hint').dataset.i18n = serverVoice.on ? 'serverVoiceHint' : !Recognition ? 'noVoice' : TOUCH ? 'voiceHintTouch' : 'voiceHint';
  $('voice-hint').textContent = t($('voice-hint').dataset.i18n);
}

function setupVoice() {
  renderVoiceControls();
  const ptt = $('ptt');
  ptt.addEventListener('pointerdown', (e) => { e.preventDefault(); startListening('ptt'); });
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) ptt.addEventListener(ev, () => stopListening('ptt'));
  document.addEventListener('keydown', (e) => {
    if (e.code === 'Space' && !e.repeat && !isTyping(e.target)) { e.preventDefault(); startListening('ptt'); }
  });
  document.addEventListener('keyup', (e) => {
    if (e.code === 'Space' && !isTyping(e.target)) { e.preventDefault(); stopListening('ptt'); }
  });
  $('hands-free').addEventListener('change', (e) => {
    if (e.target.checked) startListening('free'); else stopListening('free', true);
  });
}

function isTyping(target) {
  return target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT' || target.tagName === 'SELECT');
}

function startListening(mode) {
  if (serverVoice.on) { serverVoice.listen(mode); return; }
  if (!Recognition || voiceIn.recognizer) return;
  // The person starts talking: the companion stops (barge-in).
  if (app.speaking) speech.stop();
  if (app.socket) app.socket.interrupt();
  const r = new Recognition();
  r.lang = app.lang;
  r.continuous = mode === 'free';
  r.interimResults = true;
  let finalText = '';
  r.onresult = (event) => {
    let interim = '';
    for (let i = event.resultIndex; i < event.results.length; i++) {
      const result = event.results[i];
      if (result.isFinal) {
        const said = result[0].transcript.trim();
        if (mode === 'free' && said) send(said); else finalText += ' ' + said;
      } else interim += result[0].transcript;
    }
    $('input').value = (finalText + ' ' + interim).trim();
  };
  r.onerror = (event) => {
    if (event.error === 'not-allowed') toast('Microphone access was refused.');
    else if (event.error !== 'no-speech' && event.error !== 'aborted') toast('Voice input stopped: ' + event.error);
  };
  r.onend = () => {
    voiceIn.recognizer = null;
    app.listening = false;
    if (mode === 'ptt' && finalText.trim()) { send(finalText.trim()); }
    else if (mode === 'free' && $('hands-free').checked && !voiceIn.paused) { setTimeout(() => startListening('free'), 250); }
    renderState();
  };
  voiceIn.recognizer = r;
  voiceIn.mode = mode;
  app.listening = true;
  $('ptt').classList.toggle('active', mode === 'ptt');
  try { r.start(); } catch { voiceIn.recognizer = null; app.listening = false; }
  renderState();
}

function stopListening(mode, abort = false) {
  if (serverVoice.on) { serverVoice.unlisten(mode); return; }
  const r = voiceIn.recognizer;
  if (!r || voiceIn.mode !== mode) return;
  $('ptt').classList.remove('active');
  if (abort) r.abort(); else r.stop();
}

/** Hands-free stops hearing while the companion speaks, so it does not answer itself. */
function pauseListening() {
  if (voiceIn.mode === 'free' && voiceIn.recognizer) { voiceIn.paused = true; voiceIn.recognizer.abort(); }
}

function resumeListening() {
  if (voiceIn.paused) { voiceIn.paused = false; if ($('hands-free').checked) startListening('free'); }
}

// --- server voice ---------------------------------------------------------------------------
// When the server has speech engines (`voiceAvailable` in /api/v1/config), the session asks for
// audio (`audio_start`); once the server answers `audio_ready`, the microphone goes to the server
// as 20 ms frames of 16-bit PCM (getUserMedia with echo cancellation and noise suppression, then
// an AudioWorklet), the server's VAD decides when a turn ends, and reply audio comes back as binary
// frames, played through WebAudio after a short jitter buffer. Anything else keeps the browser's
// own speech. When /api/v1/config also has `webrtc`, the same voice travels on a WebRTC call instead
// (web/webrtc.js: Opus, the browser's echo cancellation and jitter buffer; push to talk mutes the
// track); if the call is refused or ICE finds no path, the page falls back to the WebSocket.

/** Rates the server takes; the page uses its AudioContext's own rate when it is one of them. */
const VOICE_RATES = [8000, 16000, 24000, 48000];
const JITTER_SECONDS = 0.08;
const FRAME_MS = 20;

const voiceTransport = {
  /** Sends one frame of PCM (an ArrayBuffer); false if it could not. A WebRTC transport replaces this. */
  send: (frame) => !!app.socket && app.socket.sendAudio(frame),
};

const serverVoice = {
  on: false,        // the server said audio_ready: it listens in this session
  speaks: false,    // ...and speaks its replies (no browser synthesis then)
  rate: 16000,      // the session's input and output rate
  ctx: null,
  node: null,
  starting: false,  // the microphone is being opened (once per page)
  clock: null,      // { t0, sentMs }: audio sent against the wall clock
  modes: new Set(), // 'ptt' and/or 'free' while the person is talking to the server
  playAt: 0,
  sources: new Set(),
  framesSent: 0,
  framesPlayed: 0,
  call: null,       // a WebRtcVoice (web/webrtc.js) while the voice travels on a WebRTC call
  webrtcFailed: false, // a call could not be made here: WebSocket audio from now on

  context() {
    if (!this.ctx) this.ctx = new AudioContext();
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    return this.ctx;
  },

  /** Asks for audio at the start of each session (the server answers audio_ready or an error). */
  request(conversation) {
    if (!app.config || !app.config.voiceAvailable) return;
    if (app.config.webrtc && !this.webrtcFailed && window.RTCPeerConnection) {
      // WebRTC when the server offers it: the server answers audio_ready and webrtc_answer, or an error.
      this.call = new WebRtcVoice((m) => conversation.send(m), app.config.webrtc.iceServers);
      this.call.start().catch(() => this.fallBack(conversation));
      return;
    }
    const rate = this.context().sampleRate;
    this.rate = VOICE_RATES.includes(rate) ? rate : 16000;
    conversation.send({ type: 'audio_start', inputRate: this.rate, outputRate: this.rate });
  },

  ready(m) {
    this.on = true;
    this.speaks = !!m.speak;
    renderVoiceControls();
    if ($('hands-free').checked) this.listen('free');
  },

  /** The server cannot do voice here (no engine for this language): the browser's speech it is. */
  unavailable() {
    if (this.call) { this.call.close(); this.call = null; }
    this.on = false;
    this.speaks = false;
    this.modes.clear();
    renderVoiceControls();
  },

  async listen(mode) {
    if (app.speaking) this.flush(); // the person starts talking: the companion stops at once
    this.modes.add(mode);
    $('ptt').classList.toggle('active', this.modes.has('ptt'));
    app.listening = true;
    renderState();
    if (this.call) { this.call.talk(true); return; }
    if (this.node || this.starting) return;
    this.starting = true;
    const ctx = this.context();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
      await ctx.audioWorklet.addModule('/pcm-worklet.js');
      const node = new AudioWorkletNode(ctx, 'yaad-pcm', { processorOptions: { targetRate: this.rate, frameMs: FRAME_MS } });
      // Once started, frames flow for the rest of the session, silent while nobody is talking:
      // the server's VAD then hears the pause that ends a turn, and its clock keeps real time.
      node.port.onmessage = (e) => {
        if (!this.inRealTime()) return; // frames that bunched up behind a busy page: the server takes real time only
        const frame = this.modes.size ? e.data : new ArrayBuffer(e.data.byteLength);
        if (voiceTransport.send(frame)) this.framesSent++;
      };
      const mute = ctx.createGain();
      mute.gain.value = 0;
      ctx.createMediaStreamSource(stream).connect(node).connect(mute).connect(ctx.destination);
      this.node = node;
    } catch (e) {
      this.modes.clear();
      app.listening = false;
      toast(t('micRefused'));
      renderState();
    } finally {
      this.starting = false;
    }
  },

  /**
   * Whether one more 20 ms frame keeps the audio sent within half a second of the wall clock.
   * A page that stalled (a busy tab) gets its frames in a bunch; sending them all would run
   * ahead of real time, which the server closes (4429), so the late ones are dropped.
   */
  inRealTime() {
    const now = performance.now();
    if (!this.clock || now - this.clock.t0 - this.clock.sentMs > 1000) this.clock = { t0: now, sentMs: 0 }; // start, or after a gap
    if (this.clock.sentMs + FRAME_MS > now - this.clock.t0 + 500) return false;
    this.clock.sentMs += FRAME_MS;
    return true;
  },

  unlisten(mode) {
    this.modes.delete(mode);
    $('ptt').classList.toggle('active', this.modes.has('ptt'));
    app.listening = this.modes.size > 0;
    if (this.call) this.call.talk(this.modes.size > 0);
    renderState();
  },

  /** No WebRTC call here (refused, or ICE found no path): the same voice over the WebSocket. */
  fallBack(conversation) {
    this.unavailable();
    this.webrtcFailed = true;
    if (conversation.open) this.request(conversation);
  },

  /** One binary frame of reply audio: scheduled after what is already playing, behind a small jitter buffer. */
  play(data) {
    const ctx = this.context();
    const pcm = new Int16Array(data);
    if (!pcm.length) return;
    const buffer = ctx.createBuffer(1, pcm.length, this.rate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    if (this.playAt < ctx.currentTime) this.playAt = ctx.currentTime + JITTER_SECONDS;
    source.start(this.playAt);
    this.playAt += buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      if (!this.sources.size) { app.speaking = false; renderState(); }
    };
    this.framesPlayed++;
    app.speaking = true;
    renderState();
  },

  /** Barge-in: what is buffered is dropped now. */
  flush() {
    for (const source of this.sources) { try { source.stop(); } catch { /* not started */ } }
    this.sources.clear();
    this.playAt = 0;
    app.speaking = false;
    renderState();
  },
};

// --- the conversation (WebSocket) -----------------------------------------------------------

class Conversation {
  constructor() {
    this.open = false;
    this.active = false;        // the session said `state: active`: it takes user turns
    this.closedByUs = false;
    this.retries = 0;
    this.bubbles = new Map();   // speechId -> <li>
    this.connect();
  }

  /**
   * The session URL. A browser cannot set headers on a WebSocket, and the server takes only
   * session tokens in the URL (never an API key, which would end up in logs): with an API key,
   * the page first asks for a short-lived session token of the chosen user.
   */
  async url() {
    const params = new URLSearchParams({ lang: app.lang });
    let token = app.credential;
    if (token && !tokenUser(token)) {
      const response = await api('/api/v1/tokens', { method: 'POST', body: JSON.stringify({ userId: app.userId, ttlSeconds: 300 }) });
      if (!response.ok) return null;
      token = (await response.json()).token;
    }
    if (token) params.set('token', token);
    else params.set('userId', app.userId);
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/sessions?' + params;
  }

  async connect() {
    let url;
    try { url = await this.url(); } catch { url = null; }
    if (this.closedByUs) return;
    if (!url) { notice('chat-down', '<h3>The conversation could not connect.</h3>Memory browsing still works. Reload the page to try again.'); return; }
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => { this.open = true; this.retries = 0; renderState(); this.heartbeat = setInterval(() => this.send({ type: 'ping' }), 20000); };
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') { serverVoice.play(event.data); return; }
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.handle(message);
    };
    ws.onclose = (event) => {
      clearInterval(this.heartbeat);
      const wasOpen = this.open;
      this.open = false;
      this.active = false;
      app.busy = false;
      serverVoice.flush();
      serverVoice.unavailable(); // asked again on the next connection
      renderState();
      if (this.closedByUs || event.code === 1000) return;
      if (event.code === 4410) { addMessage('system', 'This user was deleted, with all their memories; the conversation has ended.'); return; }
      if (event.code === 1008) { addMessage('system', 'The session was refused: ' + (event.reason || 'check your token') + '.'); return; }
      if (!wasOpen && this.retries >= 2) {
        notice('chat-down', '<h3>The conversation could not connect.</h3>Memory browsing still works. Reload the page to try again.');
        return;
      }
      const delay = Math.min(30000, 1000 * 2 ** this.retries++);
      setTimeout(() => { if (!this.closedByUs) this.connect(); }, delay);
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(message)); return true; }
    return false;
  }

  /** One frame of microphone PCM; dropped when the socket is not open or is backed up. */
  sendAudio(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount > 64 * 1024) return false;
    this.ws.send(frame);
    return true;
  }

  interrupt() {
    if (app.busy || this.streaming) this.send({ type: 'interrupt' });
  }

  end() {
    this.closedByUs = true;
    this.send({ type: 'end' });
    setTimeout(() => this.ws && this.ws.close(1000), 500);
  }

  /** The bubble of one greeting or reply: its text streams into `.body`, tool chips go below. */
  bubble(speechId) {
    let li = this.bubbles.get(speechId);
    if (!li) {
      li = addMessage('companion streaming', '');
      li.append(Object.assign(document.createElement('span'), { className: 'body' }));
      this.bubbles.set(speechId, li);
    }
    return li;
  }

  handle(m) {
    switch (m.type) {
      case 'state':
        this.active = m.state === 'active';
        if (m.state === 'active') serverVoice.request(this);
        renderState();
        break;
      case 'audio_ready':
        serverVoice.ready(m);
        break;
      case 'webrtc_answer':
        if (serverVoice.call) serverVoice.call.answered(m).catch(() => serverVoice.fallBack(this));
        break;
      case 'webrtc_ended':
        // The call is over; the session goes on. Without a path for it, WebSocket audio.
        if (serverVoice.call && m.reason !== 'local') serverVoice.fallBack(this);
        break;
      // speech_started is not a barge-in yet: a backchannel ("haan", "yeah") must not cut the
      // companion off; the server decides, and says interrupted.
      case 'transcript':
        if (m.isFinal) {
          if (m.text && m.text.trim()) { addMessage('me', m.text.trim()); app.busy = true; }
          $('input').value = '';
        } else {
          $('input').value = m.text || '';
        }
        renderState();
        break;
      case 'interrupted':
        serverVoice.flush();
        if (serverVoice.call) serverVoice.call.interrupted(); // the tail already on its way is not played
        break;
      case 'audio_started':
        if (serverVoice.call) serverVoice.call.replyStarts();
        break;
      case 'voice_metrics':
        app.lastVoiceMetrics = m;
        break;
      case 'greeting_delta':
      case 'reply_delta': {
        app.busy = false;
        app.llmDown = false;
        this.streaming = true;
        const li = this.bubble(m.speechId);
        li.querySelector('.body').append(document.createTextNode(m.text));
        li.scrollIntoView({ block: 'end' });
        speech.feed(m.text, false);
        renderState();
        break;
      }
      case 'reply_done': {
        this.streaming = false;
        app.busy = false;
        const li = this.bubbles.get(m.speechId);
        if (li) li.classList.remove('streaming');
        if (m.outcome === 'interrupted' && li) li.classList.add('interrupted');
        if (m.outcome === 'failed') {
          // One message per failed turn, with what to do; no empty bubble left behind.
          app.llmDown = true;
          if (li && !li.querySelector('.body').textContent.trim()) { li.remove(); this.bubbles.delete(m.speechId); }
          addMessage('system failed', t(m.kind === 'greeting' ? 'greetingFailed' : 'replyFailed'));
        }
        // A failed reply's text (the server's apology) is said to the end, as server voice says it;
        // an interrupted one's rest is not.
        if (m.outcome === 'completed' || m.outcome === 'failed') speech.feed('', true); else speech.pending = '';
        renderState();
        break;
      }
      case 'tool': {
        // Tools run before the reply's first words: this opens its bubble, showing the cursor.
        const li = this.bubble(m.speechId);
        let tools = li.querySelector('.tools');
        if (!tools) { tools = document.createElement('div'); tools.className = 'tools'; li.append(tools); }
        tools.append(Object.assign(document.createElement('span'), { className: 'chip', textContent: m.name + ' · ' + m.ms + ' ms' }));
        break;
      }
      case 'learned': {
        const fresh = new Set([...(m.added || []), ...(m.updated || [])].map((x) => x.id));
        const n = fresh.size;
        toast(n ? t('learned')(n) : t('profileUpdated'));
        refreshMemories(fresh);
        break;
      }
      case 'error':
        if (m.code === 'voice_unavailable') { serverVoice.unavailable(); break; } // the browser's speech it is
        if (m.code === 'webrtc_unavailable' || m.code === 'webrtc_failed') { serverVoice.fallBack(this); break; }
        app.busy = false;
        // A failed reply was already said, once, at its reply_done.
        if (m.code !== 'llm_unavailable') addMessage('system', m.message || m.code);
        renderState();
        break;
      default:
        break; // pong and anything newer than this page
    }
  }
}

// --- sending --------------------------------------------------------------------------------

function send(text) {
  text = text.trim();
  if (!text) return;
  if (!app.socket || !app.socket.open) {
    addMessage('system', chatUnavailableReason());
    return;
  }
  if (!app.socket.active) {
    addMessage('system', t('stillConnecting'));
    return;
  }
  if (app.speaking) speech.stop();
  app.socket.interrupt();
  addMessage('me', text);
  $('input').value = '';
  autosize();
  app.busy = true;
  app.socket.send({ type: 'user_text', text, lang: app.lang });
  renderState();
}

function chatUnavailableReason() {
  if (!app.config) return t('serverDown');
  if (!app.config.llmConfigured) return t('needsLlm');
  if (!app.config.sessionsAvailable) return t('notAvailable');
  return t('reconnecting');
}

function autosize() {
  const input = $('input');
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight, 144) + 'px';
}

// --- language -------------------------------------------------------------------------------

function applyLanguage() {
  const lang = LANGS[app.lang] ? app.lang : 'en-US';
  app.lang = lang;
  $('lang').value = lang;
  document.documentElement.lang = lang.slice(0, 2);
  document.documentElement.dir = LANGS[lang].dir;
  const input = $('input');
  input.dir = LANGS[lang].dir;
  input.lang = lang;
  input.placeholder = t('placeholder');
  $('send').textContent = t('send');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  store.set('yaad.lang', lang);
  renderState();
  if (app.config) refreshMemories();
}

// --- start ----------------------------------------------------------------------------------

function showServerNotices() {
  const c = app.config;
  if (!c.llmConfigured) {
    notice('llm-notice', `<h3>No LLM is configured, so the companion cannot talk yet.</h3>
      Memory browsing works. To talk, restart the server with an OpenAI-compatible endpoint, for example a local
      <a href="https://ollama.com" rel="noreferrer">Ollama</a>:
      <pre>YAAD_LLM_BASE_URL=http://localhost:11434/v1 YAAD_LLM_MODEL=llama3.1 bin/yaad serve</pre>
      For a hosted provider also set <code>YAAD_LLM_API_KEY</code> (for OpenAI:
      <code>YAAD_LLM_BASE_URL=https://api.openai.com/v1</code>, <code>YAAD_LLM_MODEL=gpt-4o-mini</code>).`);
  } else if (!c.sessionsAvailable) {
    notice('sessions-notice', `<h3>Conversation is not available on this server yet.</h3>
      This build serves memories only; you can browse and forget what Yaad remembers.`, 'info');
  }
  if (!c.authRequired) {
    $('auth-banner').hidden = true;
    $('state').title = 'This server runs without authentication (loopback only).';
    const tag = document.createElement('p');
    tag.className = 'tagline';
    tag.id = 'auth-off';
    tag.dataset.i18n = 'openServer';
    tag.textContent = t('openServer');
    document.querySelector('.brand div').append(tag);
  }
}

async function start() {
  applyLanguage();
  $('lang').addEventListener('change', (e) => {
    app.lang = e.target.value;
    applyLanguage();
    if (voiceIn.recognizer) { const mode = voiceIn.mode; stopListening(mode, true); if (mode === 'free') setTimeout(() => startListening('free'), 300); }
  });
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); send($('input').value); });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send($('input').value); }
  });
  $('input').addEventListener('input', autosize);
  $('refresh').addEventListener('click', () => refreshMemories());
  setupVoice();

  try {
    app.config = await (await fetch('/api/v1/config')).json();
  } catch (e) {
    notice('server-down', '<h3>The server is not answering.</h3>Is <code>bin/yaad serve</code> running?');
    renderState();
    return;
  }
  showServerNotices();

  app.credential = readCredential();
  const params = new URLSearchParams(location.search);
  app.userId = tokenUser(app.credential) || params.get('user') || store.get('yaad.userId', 'me');
  store.set('yaad.userId', app.userId);
  const userInput = $('user-id');
  userInput.value = app.userId;
  // A session token decides the user; only an open server or an API key lets you switch.
  userInput.readOnly = !!tokenUser(app.credential);
  userInput.addEventListener('change', () => {
    const next = userInput.value.trim();
    if (!next || next === app.userId) return;
    app.userId = next;
    store.set('yaad.userId', next);
    if (app.socket) { app.socket.end(); app.socket = null; }
    $('messages').replaceChildren();
    refreshMemories();
    if (canConverse()) app.socket = new Conversation();
  });

  if (app.config.authRequired && !app.credential) {
    askForCredential();
    renderState();
    return;
  }
  await refreshMemories();
  if (canConverse()) app.socket = new Conversation();
  renderState();
  window.addEventListener('pagehide', () => app.socket && app.socket.end());
}

function canConverse() {
  return app.config.sessionsAvailable && app.config.llmConfigured;
}

// For tests and the curious: the page's state, read-only.
window.yaad = { app, refreshMemories, serverVoice, voiceTransport };
start();
