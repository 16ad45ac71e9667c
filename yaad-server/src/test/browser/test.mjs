// Drives the companion page in Debian's headless Chromium with playwright-core.
// Run by dev.yaad.server.web.BrowserTest, which starts a server and passes:
//   YAAD_BASE_URL       http://127.0.0.1:<port> of the running server
//   YAAD_CHROMIUM       the Chromium binary (Debian's /usr/bin/chromium)
//   YAAD_SCREENSHOTS    a directory for screenshots (under target/)
//   YAAD_CREDENTIAL     optional: an API key, when the server runs with authentication; the
//                       script then issues a session token for its user and opens /?token=
//   YAAD_SCREENSHOT_NAME optional: the screenshot's file name, without .png (companion)
//   YAAD_FAKE_MIC       optional: a WAV file Chromium's fake microphone plays (in a loop), for
//                       the server-voice scenarios (servers whose config says voiceAvailable)
//   YAAD_SCENARIOS      optional: run only the scenarios whose name contains this text
// Each scenario says which servers it applies to (a predicate on GET /api/v1/config), so
// the same file serves a memory-only server today and a server with the WebSocket session
// endpoint and a scripted LLM later: start that server in BrowserTest, run this file again,
// and the chat scenarios (marked `when: chat`) run there.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.YAAD_BASE_URL;
const executablePath = process.env.YAAD_CHROMIUM || '/usr/bin/chromium';
const shots = process.env.YAAD_SCREENSHOTS || '.';
const credential = process.env.YAAD_CREDENTIAL || null;
const shotName = process.env.YAAD_SCREENSHOT_NAME || 'companion';
if (!base) { console.error('browser: YAAD_BASE_URL is not set'); process.exit(2); }

const scenarios = [];
const scenario = (name, options, fn) => scenarios.push(fn ? { name, ...options, fn } : { name, fn: options });
const always = () => true;
const noLlm = (c) => !c.llmConfigured;
const memoriesOnly = (c) => !c.sessionsAvailable || !c.llmConfigured;
const chat = (c) => c.sessionsAvailable && c.llmConfigured;
const authOn = (c) => c.authRequired;
const serverVoiceOn = (c) => chat(c) && c.voiceAvailable && !!process.env.YAAD_FAKE_MIC;

/** The REST API, as an admin or on an open server. */
async function api(path, options = {}) {
  const headers = { ...(options.body ? { 'Content-Type': 'application/json' } : {}), ...(credential ? { Authorization: 'Bearer ' + credential } : {}) };
  const response = await fetch(base + path, { ...options, headers, body: options.body && JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function remember(user, category, content) {
  const r = await api(`/api/v1/users/${user}/memories`, { method: 'POST', body: { category, content } });
  if (r.status !== 201) throw new Error('could not add a memory: ' + JSON.stringify(r.json));
  return r.json;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const URDU = 'میرا نام علی ہے، میں کراچی میں رہتا ہوں';

// --- scenarios -------------------------------------------------------------------------------

scenario('the page loads and shows its state', async ({ open }) => {
  const page = await open('loads');
  check((await page.title()).includes('Yaad'), 'title: ' + await page.title());
  await page.locator('#state-text').waitFor();
  check(await page.locator('#input').isEnabled(), 'the text input is not available');
  check(await page.locator('#lang option[value="ur-PK"]').count() === 1, 'no Urdu (ur-PK) in the language selector');
  check(await page.locator('#lang option[value="en-US"]').count() === 1, 'no English (en-US) in the language selector');
});

scenario('without an LLM the page says exactly what to set', { when: noLlm }, async ({ open }) => {
  const page = await open('no-llm');
  const notice = page.locator('#llm-notice');
  await notice.waitFor();
  const text = await notice.innerText();
  for (const expected of ['YAAD_LLM_BASE_URL=http://localhost:11434/v1', 'YAAD_LLM_MODEL=llama3.1', 'YAAD_LLM_API_KEY']) {
    check(text.includes(expected), `the notice lacks "${expected}": ${text}`);
  }
});

scenario('the memory panel shows memories added over the REST API', async ({ open, user }) => {
  await remember(user, 'GOAL', 'Wants to run a 10k before summer');
  await remember(user, 'INTEREST', 'Loves the poetry of Faiz Ahmed Faiz');
  await api(`/api/v1/users/${user}/profile`, { method: 'PUT', body: { content: 'Ali, 34, lives in Karachi.' } });
  const page = await open('panel');
  await page.locator('.category[data-category="GOAL"] .item', { hasText: 'Wants to run a 10k' }).waitFor();
  await page.locator('.category[data-category="INTEREST"] .item', { hasText: 'Faiz Ahmed Faiz' }).waitFor();
  check((await page.locator('#profile').innerText()).includes('lives in Karachi'), 'the profile is not shown');

  await remember(user, 'PLAN', 'Visiting his sister in Lahore');
  await page.locator('#refresh').click();
  await page.locator('.category[data-category="PLAN"] .item', { hasText: 'Lahore' }).waitFor();
});

// `learned` messages come close together (a tool's memory, then the profile refresh it caused,
// then background learning), each refreshing the panel, and their snapshots may answer in any
// order. Here the first refresh's snapshot is read, then held until a newer refresh has drawn a
// memory learned meanwhile: the older answer must not hide it, nor a later refresh unmark it.
scenario('the memory panel draws the newest snapshot and keeps a new memory marked', async ({ open, user }) => {
  const page = await open('refresh-order');
  await page.locator('.item').first().waitFor();
  let read, release;
  const staleRead = new Promise((r) => { read = r; });
  const released = new Promise((r) => { release = r; });
  let snapshots = 0;
  await page.route('**/snapshot*', async (route) => {
    if (snapshots++ > 0) return route.continue();
    const stale = await route.fetch();
    read();
    await released;
    await route.fulfill({ response: stale });
  });
  const older = page.evaluate(() => window.yaad.refreshMemories());
  await staleRead;
  const memory = await remember(user, 'PLAN', 'Baking sourdough on Sundays');
  await page.evaluate((id) => window.yaad.refreshMemories(new Set([id])), memory.id);
  const fresh = page.locator(`.item.fresh[data-id="${memory.id}"]`);
  await fresh.waitFor();
  await page.evaluate(() => window.yaad.refreshMemories()); // as a profile-only `learned` message does
  check(await fresh.count() === 1, 'a later refresh took the new mark off the memory just learned');
  release();
  await older;
  check(await page.locator(`.item[data-id="${memory.id}"]`).count() === 1, 'an older snapshot, answered last, hid the memory just learned');
  await page.unroute('**/snapshot*');
});

scenario('Urdu renders right to left, English left to right', async ({ open, user }) => {
  await remember(user, 'FACT', URDU);
  const page = await open('rtl');
  const urdu = page.locator('.item .text', { hasText: 'کراچی' });
  await urdu.waitFor();
  const direction = (l) => l.evaluate((el) => getComputedStyle(el).direction);
  check(await direction(urdu) === 'rtl', 'the Urdu memory is ' + await direction(urdu));
  check(await direction(page.locator('.item .text', { hasText: 'Wants to run' })) === 'ltr', 'the English memory is not ltr');
  await page.selectOption('#lang', 'ur-PK');
  check(await direction(page.locator('#input')) === 'rtl', 'the input is not rtl with Urdu selected');
  await page.selectOption('#lang', 'en-US');
  check(await direction(page.locator('#input')) === 'ltr', 'the input is not ltr with English selected');
  await page.selectOption('#lang', 'ur-PK');
});

scenario('forgetting a memory removes it, after a confirming second click', async ({ open, user }) => {
  const memory = await remember(user, 'OPINION', 'Thinks biryani is better than pulao');
  const page = await open('forget');
  const item = page.locator(`.item[data-id="${memory.id}"]`);
  await item.waitFor();
  await item.locator('.forget').click();
  check(await item.isVisible(), 'one click already forgot it');
  check((await api(`/api/v1/users/${user}/memories/${memory.id}`)).status === 200, 'one click deleted it on the server');
  await item.locator('.forget').click();
  await item.waitFor({ state: 'detached' });
  check((await api(`/api/v1/users/${user}/memories/${memory.id}`)).status === 404, 'the memory is still on the server');
  await page.locator('#refresh').click();
  await page.locator('.item .text', { hasText: 'Wants to run' }).waitFor();
  check(await page.locator(`.item[data-id="${memory.id}"]`).count() === 0, 'the forgotten memory came back');
});

scenario('without conversation, sending text explains why and memory browsing goes on', { when: memoriesOnly }, async ({ open }) => {
  const page = await open('degraded');
  await page.locator('#input').fill('Hello there');
  await page.locator('#input').press('Enter');
  const system = page.locator('.msg.system');
  await system.first().waitFor();
  const text = await system.first().innerText();
  check(/LLM|not available/.test(text), 'unhelpful message: ' + text);
  check(await page.locator('#input').isEnabled(), 'the input was disabled');
  check(await page.locator('#state').getAttribute('data-state') === 'offline', 'the state indicator does not say offline');
});

// Runs where the server has the WebSocket session endpoint and an LLM: the greeting, one
// text turn with its reply streamed, and the panel updated by the `learned` event.
scenario('a text turn streams the reply and the panel learns', { when: chat }, async ({ open }) => {
  const page = await open('chat');
  const greeting = page.locator('.msg.companion:not(.streaming)').first();
  await greeting.waitFor();
  check((await greeting.innerText()).trim().length > 0, 'the greeting is empty');
  await page.locator('#input').fill('I start my new job at the bank on Monday');
  await page.locator('#input').press('Enter');
  await page.locator('.msg.me', { hasText: 'new job' }).waitFor();
  const reply = page.locator('.msg.companion:not(.streaming)').nth(1);
  await reply.waitFor();
  check((await reply.innerText()).includes('new job'), 'the reply is not the streamed text: ' + await reply.innerText());
  await page.locator('.msg.companion .chip').first().waitFor();
  await page.locator('.item.fresh', { hasText: 'new job at the bank' }).waitFor({ timeout: 15000 });
  check(await page.locator('#input').inputValue() === '', 'the input was not cleared');
});

// A memory the model saves with its tool during the turn is marked new in the panel by that
// tool's `learned` message (the scripted model words it differently from the user, so
// background extraction, which keeps the user's words, cannot be what marked it).
scenario('a memory the model saves during the turn appears in the panel', { when: chat }, async ({ open }) => {
  const page = await open('tool-save');
  await page.locator('.msg.companion:not(.streaming)').first().waitFor();
  await page.locator('#input').fill('Please remember that I drink chai every evening');
  await page.locator('#input').press('Enter');
  await page.locator('.msg.companion .chip', { hasText: 'saveMemory' }).waitFor();
  await page.locator('.item.fresh', { hasText: 'Drinks cardamom chai every evening' }).waitFor({ timeout: 15000 });
});

scenario('with authentication the page asks for a token', { when: authOn }, async ({ user, token }) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/`);
    const form = page.locator('#auth-banner form');
    await form.waitFor();
    await form.locator('input[name="credential"]').fill(await token());
    await form.locator('button[type="submit"]').click();
    await page.locator('#user-id').waitFor();
    await page.waitForFunction((u) => document.getElementById('user-id').value === u, user);
    check(await page.locator('#user-id').evaluate((el) => el.readOnly), 'the user can be changed despite the token');
    await page.locator('.item').first().waitFor();
  } finally {
    await page.close();
  }
});

// The server takes only session tokens in a WebSocket URL: the page trades the key for one.
scenario('an operator\'s API key opens a conversation for the user it names', { when: (c) => chat(c) && authOn(c) }, async ({ user }) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}/`);
    const form = page.locator('#auth-banner form');
    await form.waitFor();
    await form.locator('input[name="credential"]').fill(credential);
    await form.locator('input[name="user"]').fill(user + '-op');
    await form.locator('button[type="submit"]').click();
    await page.locator('.msg.companion:not(.streaming)').first().waitFor({ timeout: 15000 });
    check(await page.locator('#user-id').inputValue() === user + '-op', 'the session is not for the user the operator named');
  } finally {
    await page.close();
  }
});

scenario('a new user\'s first visit raises no error and no 404', async ({ open, user }) => {
  // The runner fails a scenario on any console error or failed request; this one only visits.
  const page = await open('new-user', user + '-new');
  await page.locator('#memories .empty').waitFor();
  check((await page.locator('#memories .empty').innerText()).includes(user + '-new'), 'the empty panel does not name the user');
  await page.locator('#refresh').click();
  await page.locator('#memories .empty').waitFor();
});

scenario('the interface follows the chosen language, Urdu or English', async ({ open }) => {
  const page = await open('i18n');
  await page.locator('#memories .category').first().waitFor();
  await page.selectOption('#lang', 'ur-PK');
  check(await page.evaluate(() => document.documentElement.dir) === 'rtl', 'the page is not right to left in Urdu');
  const urdu = { '#send': 'بھیجیں', '[data-i18n="aboutYou"]': 'آپ کے بارے میں', '[data-i18n="whatIRemember"]': 'مجھے کیا یاد ہے',
    '[data-i18n="youAre"]': 'آپ کون ہیں', '[data-i18n="language"]': 'زبان' };
  for (const [selector, text] of Object.entries(urdu)) {
    check((await page.locator(selector).textContent()).trim() === text, `${selector} is not "${text}" in Urdu: ${await page.locator(selector).textContent()}`);
  }
  check(/[\u0600-\u06FF]/.test(await page.locator('#state-text').innerText()), 'the state is not in Urdu: ' + await page.locator('#state-text').innerText());
  await page.locator('.category[data-category="GOAL"] h3', { hasText: 'مقاصد' }).waitFor();
  check(/[\u0600-\u06FF]/.test(await page.locator('.forget').first().innerText()), 'the forget button is not in Urdu');
  await page.selectOption('#lang', 'en-US');
  check((await page.locator('[data-i18n="aboutYou"]').textContent()).trim() === 'About you', 'English did not come back');
  check(await page.evaluate(() => document.documentElement.dir) === 'ltr', 'the page is not left to right in English');
  await page.locator('.category[data-category="GOAL"] h3', { hasText: 'Goal' }).waitFor();
});

scenario('on a phone, long configuration names wrap and the push-to-talk hint fits', { when: noLlm }, async ({ open }) => {
  const page = await open('phone');
  await page.setViewportSize({ width: 360, height: 740 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  await page.reload();
  await page.locator('#llm-notice').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `the page is ${overflow} px wider than a 360 px phone`);
  const hint = page.locator('#voice-hint');
  const text = await hint.innerText();
  check(!/space bar/i.test(text), 'a touch screen is told about a space bar: ' + text);
  check(await hint.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), 'the voice hint does not fit: ' + text);
  await page.screenshot({ path: join(shots, 'companion-phone.png'), fullPage: true });
  await cdp.detach();
});

// The scripted model fails any turn that says "LLM down" (HTTP 503, after the client's retries).
scenario('when the LLM is down the page says so once per turn, with a retry hint, and no empty bubble', { when: chat }, async ({ open }) => {
  const page = await open('llm-down');
  await page.locator('.msg.companion:not(.streaming)').first().waitFor();
  await page.locator('#input').fill('Pretend the LLM down now');
  await page.locator('#input').press('Enter');
  const failed = page.locator('.msg.system.failed');
  await failed.first().waitFor({ timeout: 20000 });
  check(/again/.test(await failed.first().innerText()), 'no retry hint: ' + await failed.first().innerText());
  await page.waitForFunction(() => document.getElementById('state').dataset.state === 'degraded');
  check(!/^ready$/.test(await page.locator('#state-text').innerText()), 'the state says ready while the LLM is down');
  const empty = await page.locator('.msg.companion').evaluateAll((els) => els.filter((e) => !e.textContent.trim()).length);
  check(empty === 0, empty + ' empty reply bubble(s) left behind');
  // The next turn gets through: the state is ready again, and the failure was said once only.
  await page.locator('#input').fill('Hello again, are you back');
  await page.locator('#input').press('Enter');
  await page.locator('.msg.companion', { hasText: 'are you back' }).waitFor({ timeout: 20000 });
  await page.waitForFunction(() => document.getElementById('state').dataset.state === 'idle');
  check(await failed.count() === 1, 'the failure was said ' + await failed.count() + ' times for one turn');
});

// The browser's own speech (no server voice here): a failed reply's words are spoken to the end,
// also when they end without a full stop (the page used to drop what followed the last one).
scenario('a failed reply is spoken in full by the browser', { when: chat }, async ({ open }) => {
  const page = await open('failed-spoken');
  await page.locator('.msg.companion:not(.streaming)').first().waitFor();
  const spoken = await page.evaluate(() => {
    const said = [];
    window.speechSynthesis.speak = (u) => { said.push(u.text); setTimeout(() => u.onend && u.onend(), 0); };
    window.speechSynthesis.cancel = () => {};
    const socket = window.yaad.app.socket;
    socket.handle({ type: 'reply_delta', speechId: 'r-test', kind: 'reply', text: 'Sorry, I lost my words. Could you say that' });
    socket.handle({ type: 'reply_delta', speechId: 'r-test', kind: 'reply', text: ' again' });
    socket.handle({ type: 'reply_done', speechId: 'r-test', kind: 'reply', outcome: 'failed', text: '' });
    return said;
  });
  check(spoken.join(' ') === 'Sorry, I lost my words. Could you say that again', 'spoken: ' + JSON.stringify(spoken));
});

scenario('the operator page charts what the server measures', async ({ open, token }) => {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(`${base}/ops?every=0.5`);
    if (config.authRequired) {
      const form = page.locator('#key-form form');
      await form.waitFor();
      await form.locator('input[name="key"]').fill(credential);
      await form.locator('button[type="submit"]').click();
    }
    await page.locator('.tile[data-key="turns (total)"]').waitFor();
    if (chat(config)) {
      // Turns while the page watches, from the companion page next to it.
      const talk = await open('ops-traffic');
      await talk.locator('.msg.companion:not(.streaming)').first().waitFor();
      for (const words of ['I went running this morning', 'My sister lives in Lahore']) {
        await talk.locator('#input').fill(words);
        await talk.locator('#input').press('Enter');
        await talk.locator('.msg.companion', { hasText: words }).waitFor({ timeout: 20000 });
      }
      await page.waitForFunction(() => Number(document.querySelector('.tile[data-key="turns (total)"] .v').textContent) >= 2);
      await page.waitForFunction(() => /ms$/.test(document.querySelector('.tile[data-key="turn end to end (mean)"] .v').textContent));
    }
    await page.waitForFunction(() => window.yaadOps.t.length >= 6);
    // Without an LLM there are no agent meters: those charts say "not measured here" instead.
    const charts = chat(config) ? 6 : 3;
    check(await page.locator('figure canvas').count() >= charts, `fewer than ${charts} charts were drawn`);
    check(errors.length === 0, 'errors on the operator page: ' + errors.join('; '));
    await page.screenshot({ path: join(shots, (chat(config) ? 'ops' : 'ops-memory-only') + '.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

scenario('/docs shows the whole API in Swagger UI, from the jar', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(base)) errors.push('fetched from elsewhere: ' + r.url()); });
  try {
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
    const documented = Object.values((await api('/openapi.json')).json.paths)
      .reduce((n, p) => n + Object.keys(p).filter((k) => methods.includes(k)).length, 0);
    // The page's 'load' waits for the 1.4 MB bundle to be fetched and run, and the operations
    // appear only after it fetched and rendered the document: on a loaded machine that takes
    // longer than the default 10 s, so both waits are generous. Waiting for every operation
    // (not the first) leaves the count below to what is shown, not to when it was counted.
    await page.goto(`${base}/docs`, { timeout: 60000 });
    await page.waitForFunction((n) => document.querySelectorAll('.swagger-ui .opblock').length >= n, documented,
      { timeout: 60000, polling: 250 }).catch(() => {});
    check(await page.locator('.swagger-ui .opblock').count() === documented, 'Swagger UI does not show every operation');
    check(errors.length === 0, 'errors on /docs: ' + errors.join('; '));
  } finally {
    await page.close();
  }
});

scenario('server voice: the microphone streams to the server, the transcript and a spoken reply come back',
  { when: serverVoiceOn }, async ({ open }) => {
    const page = await open('server-voice');
    // The session asks for audio by itself when the server has speech engines, and says it is on.
    await page.waitForFunction(() => window.yaad.serverVoice.on, null, { timeout: 20000 });
    const hint = await page.locator('#voice-hint').innerText();
    check(/server/i.test(hint), 'the hint does not say voice runs on the server: ' + hint);
    await page.locator('.msg.companion:not(.streaming)').first().waitFor({ timeout: 20000 }); // the greeting
    const started = Date.now();
    await page.locator('#hands-free').check();
    // The fake microphone says the WAV's sentence; the server's VAD, end of turn and speech-to-text make it a turn.
    const mine = page.locator('.msg.me');
    await mine.first().waitFor({ timeout: 30000 });
    const said = (await mine.first().innerText()).toLowerCase();
    check(said.includes('sister'), 'the transcript is not the sentence spoken: ' + said);
    await page.locator('.msg.companion', { hasText: 'sister' }).first().waitFor({ timeout: 30000 });
    await page.waitForFunction(() => window.yaad.serverVoice.framesPlayed > 5, null, { timeout: 30000 });
    const sent = await page.evaluate(() => window.yaad.serverVoice.framesSent);
    check(sent > 50, 'the page sent only ' + sent + ' microphone frames');
    console.log(`browser: (server voice: ${sent} frames sent in ${Date.now() - started} ms, ${await page.evaluate(() => window.yaad.serverVoice.framesPlayed)} played)`);
    await page.screenshot({ path: join(shots, 'server-voice.png'), fullPage: true });
  });

const webrtcOn = (c) => serverVoiceOn(c) && !!c.webrtc;

scenario('WebRTC voice: a call carries the microphone and the spoken reply, the events stay on the socket',
  { when: webrtcOn }, async ({ open }) => {
    const page = await open('webrtc-voice');
    // The server offers WebRTC (config.webrtc): the page calls instead of streaming over the socket.
    await page.waitForFunction(() => window.yaad.serverVoice.on && !!window.yaad.serverVoice.call, null, { timeout: 20000 });
    await page.locator('.msg.companion:not(.streaming)').first().waitFor({ timeout: 20000 }); // the greeting
    await page.locator('#hands-free').check();
    // The microphone loops the WAV ("I am going to Lahore next week"); the track was muted until
    // hands-free, so the first turn may be a fragment: a later loop is heard whole. PocketSphinx
    // hears the name through Opus and the browser's processing as "law or": the rest is checked.
    const sentence = /going to .*next week/i;
    const mine = page.locator('.msg.me', { hasText: sentence });
    try {
      await mine.first().waitFor({ timeout: 60000 });
    } catch (e) {
      throw new Error('no transcript of the sentence; heard: ' + JSON.stringify(await page.locator('.msg.me').allInnerTexts()));
    }
    await page.locator('.msg.companion', { hasText: sentence }).first().waitFor({ timeout: 30000 });
    // The reply is heard on the call: the browser's inbound-rtp counts audio with energy, and keeps counting.
    await page.waitForFunction(async () => {
      const r = await window.yaad.serverVoice.call.received();
      return r && r.totalAudioEnergy > 0;
    }, null, { timeout: 30000, polling: 250 });
    const before = await page.evaluate(() => window.yaad.serverVoice.call.received());
    await page.waitForTimeout(1000);
    const after = await page.evaluate(() => window.yaad.serverVoice.call.received());
    check(after.packetsReceived > before.packetsReceived && after.bytesReceived > before.bytesReceived,
      'inbound-rtp did not grow: ' + JSON.stringify(before) + ' then ' + JSON.stringify(after));
    const overSocket = await page.evaluate(() => window.yaad.serverVoice.framesSent + window.yaad.serverVoice.framesPlayed);
    check(overSocket === 0, overSocket + ' audio frames went over the WebSocket instead of the call');
    console.log('browser: webrtc inbound-rtp ' + JSON.stringify(after));
    // Barge-in: the reply's tail already on its way is muted on interrupted, heard again at the next audio_started.
    const muted = await page.evaluate(() => {
      window.yaad.app.socket.handle({ type: 'interrupted' });
      const m = window.yaad.serverVoice.call.player.muted;
      window.yaad.app.socket.handle({ type: 'audio_started', replyId: 'next' });
      return [m, window.yaad.serverVoice.call.player.muted];
    });
    check(muted[0] === true && muted[1] === false, 'reply track muted on interrupted, then on audio_started: ' + JSON.stringify(muted));
    await page.screenshot({ path: join(shots, 'webrtc-voice.png'), fullPage: true });
  });

scenario('a screenshot of the page', async ({ open }) => {
  const page = await open('screenshot');
  await page.locator('.item').first().waitFor();
  if (chat(config)) {
    await page.locator('.msg.companion:not(.streaming)').first().waitFor();
    await page.locator('#input').fill('کل میں اپنی بہن سے ملنے لاہور جا رہا ہوں');
    await page.locator('#input').press('Enter');
    await page.locator('.msg.companion:not(.streaming)').nth(1).waitFor();
    await page.locator('.item', { hasText: 'لاہور' }).waitFor();
  }
  await page.locator('#input').fill('آج موسم بہت اچھا ہے');
  await page.screenshot({ path: join(shots, shotName + '.png'), fullPage: true });
  await page.setViewportSize({ width: 420, height: 860 });
  await page.screenshot({ path: join(shots, shotName + '-narrow.png'), fullPage: true });
});

// --- runner ----------------------------------------------------------------------------------

const profile = mkdtempSync(join(tmpdir(), 'yaad-chromium-'));
// A persistent context is how playwright takes a fresh --user-data-dir of our own.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 820 },
  locale: 'en-US',
  permissions: process.env.YAAD_FAKE_MIC ? ['microphone'] : [],
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ...(process.env.YAAD_FAKE_MIC ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--use-file-for-fake-audio-capture=' + process.env.YAAD_FAKE_MIC, '--autoplay-policy=no-user-gesture-required'] : [])],
});
browser.setDefaultTimeout(10000);
const config = (await api('/api/v1/config')).json;
const user = 'browser-' + Date.now().toString(36);
let sessionToken = null;
/** A session token for the script's user, issued with the API key (servers with auth only). */
async function token() {
  if (!sessionToken) {
    const r = await api('/api/v1/tokens', { method: 'POST', body: { userId: user, ttlSeconds: 900 } });
    if (r.status !== 201) throw new Error('could not issue a token: ' + JSON.stringify(r.json));
    sessionToken = r.json.token;
  }
  return sessionToken;
}
/** A session token for another user (servers with auth only). */
async function tokenFor(who) {
  const r = await api('/api/v1/tokens', { method: 'POST', body: { userId: who, ttlSeconds: 900 } });
  if (r.status !== 201) throw new Error('could not issue a token: ' + JSON.stringify(r.json));
  return r.json.token;
}
let ok = 0, failed = 0, skipped = 0;
try {
  for (const s of scenarios) {
    if (process.env.YAAD_SCENARIOS && !s.name.includes(process.env.YAAD_SCENARIOS)) continue;
    if (!(s.when || always)(config)) {
      skipped++;
      console.log(`browser: skip ${s.name} (not for this server: ${JSON.stringify(config)})`);
      continue;
    }
    const errors = [];
    const pages = [];
    const open = async (label, who = user) => {
      const page = await browser.newPage();
      pages.push(page);
      page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(`${label}: console: ${m.text()}`); });
      // Every failed request counts, a 404 of a first visit included; forgetting asks the server on purpose, below.
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`${label}: ${r.request().method()} ${r.url()} answered ${r.status()}`); });
      const query = config.authRequired ? '&token=' + encodeURIComponent(who === user ? await token() : await tokenFor(who)) : '';
      await page.goto(`${base}/?user=${who}${query}`);
      return page;
    };
    try {
      await s.fn({ open, user, config, token });
      // A page closed mid-conversation may report its socket closing; anything else is a bug.
      const real = errors.filter((e) => !/WebSocket/.test(e));
      if (real.length) throw new Error('errors in the page: ' + real.join('; '));
      ok++;
      console.log(`browser: ok   ${s.name}`);
    } catch (e) {
      failed++;
      console.log(`browser: FAIL ${s.name}: ${e.message.split('\n')[0]}`);
      try {
        if (pages.length) await pages[pages.length - 1].screenshot({ path: join(shots, 'failed-' + s.name.replace(/\W+/g, '-') + '.png') });
      } catch { /* the screenshot is a courtesy */ }
    } finally {
      for (const page of pages) await page.close();
    }
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`browser: ${ok} ok, ${failed} failing, ${skipped} not applicable`);
process.exit(failed ? 1 : 0);
