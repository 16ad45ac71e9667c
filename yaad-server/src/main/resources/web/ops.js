// Yaad's operator page: polls /api/v1/ops/summary (cumulative counts and gauges, see
// dev.yaad.server.ops.OpsSummary) and charts rates and per-interval means with uPlot, which
// ops.html loads from the org.webjars.npm:uplot jar. The server keeps no history: the page
// keeps the last POINTS polls in memory.

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const EVERY_S = Math.max(0.5, Number(params.get('every')) || 2);
const POINTS = 150;
const COLORS = ['#b5573b', '#2f5d62', '#e9a23b', '#6a4c93', '#3e8e5e', '#d62f2f', '#7a6f66', '#1d7ab8'];

const state = { previous: null, key: sessionStorage.getItem('yaad.opsKey'), t: [], series: {} };
// Latency parts in the order they happen in a turn; voice parts appear once the voice pipeline registers them.
const LATENCY = { snapshot: 'snapshot', tools: 'tools', llmFirstToken: 'LLM first token', endToEnd: 'end to end',
  endOfUtterance: 'end of utterance', speechToText: 'speech to text', textToSpeechFirstByte: 'TTS first byte',
  voiceEndToEnd: 'voice end to end' };

/** One chart: a uPlot whose series are created as keys first appear. */
class Chart {
  constructor(id, unit) {
    this.el = $(id);
    this.unit = unit;
    this.keys = [];
    this.plot = null;
    this.none = Object.assign(document.createElement('p'), { className: 'none', textContent: 'not measured on this server' });
    this.el.append(this.none);
  }

  update(t, values) {
    for (const key of Object.keys(values)) {
      if (!this.keys.includes(key)) { this.keys.push(key); this.rebuild(); }
    }
    const data = [t, ...this.keys.map((k) => state.series[this.el.id + ':' + k])];
    if (this.plot) this.plot.setData(data);
  }

  rebuild() {
    this.none.hidden = true;
    if (this.plot) this.plot.destroy();
    const width = Math.max(260, this.el.clientWidth - 16);
    const unit = this.unit;
    this.plot = new uPlot({
      width, height: 180,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max || 0, unit === '%' ? 100 : 1)] } },
      axes: [{}, { size: 50, values: (u, ticks) => ticks.map((v) => v + (unit ? ' ' + unit : '')) }],
      series: [{}, ...this.keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }))],
    }, [state.t, ...this.keys.map(() => [])], this.el);
  }
}

const charts = {
  load: new Chart('chart-load', ''),
  latency: new Chart('chart-latency', 'ms'),
  cache: new Chart('chart-cache', '%'),
  learning: new Chart('chart-learning', ''),
  greetings: new Chart('chart-greetings', ''),
  errors: new Chart('chart-errors', ''),
};

function push(chart, values) {
  // Every series has one value per poll (null where there is none), so all stay aligned with t.
  for (const key of Object.keys(values)) {
    const id = charts[chart].el.id + ':' + key;
    if (!state.series[id]) state.series[id] = state.t.slice(0, -1).map(() => null);
  }
  for (const id of Object.keys(state.series)) {
    if (!id.startsWith(charts[chart].el.id + ':')) continue;
    const key = id.slice(charts[chart].el.id.length + 1);
    const list = state.series[id];
    list.push(key in values ? values[key] : null);
    while (list.length > state.t.length) list.shift();
  }
  charts[chart].update(state.t, values);
}

const delta = (now, before, pick) => {
  const a = pick(now);
  const b = before ? pick(before) : null;
  return a == null || b == null ? null : a - b;
};
const round = (v, digits = 1) => (v == null || !isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);

function render(s) {
  const p = state.previous;
  const dt = p ? (Date.parse(s.at) - Date.parse(p.at)) / 1000 : null;
  state.t.push(Date.parse(s.at) / 1000);
  while (state.t.length > POINTS) state.t.shift();

  const turnsPerSecond = dt ? round(delta(s, p, (x) => x.turns) / dt, 2) : null;
  const load = { 'open sessions': s.sessionsOpen, 'turns/s': turnsPerSecond };
  if (s.voiceInterruptions != null) load['barge-ins/s'] = dt ? round(delta(s, p, (x) => x.voiceInterruptions) / dt, 2) : null;
  push('load', load);

  const latency = {};
  for (const [key, label] of Object.entries(LATENCY)) {
    const timer = s.latency[key];
    if (!timer) continue; // not measured on this server
    const count = delta(s, p, (x) => x.latency[key] && x.latency[key].count);
    const sum = delta(s, p, (x) => x.latency[key] && x.latency[key].sumSeconds);
    latency[label] = count ? round((sum / count) * 1000) : null;
  }
  push('latency', latency);

  const cache = {};
  for (const [level, counts] of Object.entries(s.cache || {})) {
    const hits = delta(s, p, (x) => x.cache[level] && x.cache[level].hit);
    const misses = delta(s, p, (x) => x.cache[level] && x.cache[level].miss);
    cache[level] = hits != null && hits + misses > 0 ? round((100 * hits) / (hits + misses)) : null;
  }
  push('cache', cache);

  const learning = {};
  for (const [key, value] of Object.entries(s.learning || {})) if (value != null) learning[key] = value;
  push('learning', learning);
  push('greetings', s.greetings || {});
  push('errors', s.errors || {});

  const cumulativeHit = (level) => {
    const c = (s.cache || {})[level];
    return c && (c.hit || 0) + (c.miss || 0) > 0 ? round((100 * (c.hit || 0)) / ((c.hit || 0) + (c.miss || 0))) + ' %' : '–';
  };
  const mean = (key) => {
    const t = s.latency[key];
    return t && t.count ? round((t.sumSeconds / t.count) * 1000) + ' ms' : '–';
  };
  const tiles = [
    ['open sessions', s.sessionsOpen ?? '–'],
    ['turns (total)', s.turns ?? '–'],
    ['turns/s', turnsPerSecond ?? '–'],
    ['reply first token (mean)', mean('llmFirstToken')],
    ['turn end to end (mean)', mean('endToEnd')],
    ['snapshot (mean)', mean('snapshot')],
    ['L1 hit ratio', cumulativeHit('l1')],
    ['learning outbox', s.learning.outbox ?? '–'],
    ['errors (total)', Object.values(s.errors || {}).reduce((a, b) => a + b, 0)],
  ];
  $('tiles').replaceChildren(...tiles.map(([k, v]) => {
    const div = document.createElement('div');
    div.className = 'tile';
    div.dataset.key = k;
    div.innerHTML = '<div class="v"></div><div class="k"></div>';
    div.querySelector('.v').textContent = String(v);
    div.querySelector('.k').textContent = k;
    return div;
  }));
  state.previous = s;
}

async function poll() {
  try {
    const headers = state.key ? { Authorization: 'Bearer ' + state.key } : {};
    const response = await fetch('/api/v1/ops/summary', { headers });
    if (response.status === 401 || response.status === 403) {
      askForKey(response.status === 403 ? 'That credential is not an API key.' : null);
      return;
    }
    if (!response.ok) throw new Error('HTTP ' + response.status);
    render(await response.json());
    status('up · uptime ' + Math.round(state.previous.uptimeSeconds || 0) + ' s', false);
  } catch (e) {
    status('the server does not answer (' + e.message + '); retrying', true);
  }
  setTimeout(poll, EVERY_S * 1000);
}

function status(text, down) {
  $('status').textContent = text;
  $('status').classList.toggle('down', down);
}

function askForKey(reason) {
  status(reason || 'an API key is needed', true);
  const banner = $('key-form');
  banner.hidden = false;
  banner.querySelector('form').onsubmit = (e) => {
    e.preventDefault();
    state.key = new FormData(e.target).get('key').trim();
    sessionStorage.setItem('yaad.opsKey', state.key);
    banner.hidden = true;
    poll();
  };
}

$('every').textContent = EVERY_S;
window.yaadOps = state; // for tests and the curious
// With authentication on and no key yet, ask for one first rather than be refused.
fetch('/api/v1/config').then((r) => r.json()).then((config) => {
  if (config.authRequired && !state.key) askForKey(null); else poll();
}).catch(() => poll());
