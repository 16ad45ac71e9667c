// One WebRTC call between Debian's headless Chromium and yaad-webrtc, run by
// dev.yaad.webrtc.BrowserCallTest, which serves call.html and the signalling endpoints on
// loopback and passes:
//   YAAD_BASE_URL   http://127.0.0.1:<port> of that server
//   YAAD_CHROMIUM   the Chromium binary
//   YAAD_FAKE_MIC   the WAV file Chromium plays as its microphone
//   YAAD_SCENARIO   call | trickle | vanish
//   YAAD_VANISH_MS  for vanish: how many ms of the caller's audio Yaad hears before Chromium is killed
// Prints one "browser: <what> <json>" line per result; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.YAAD_BASE_URL;
const scenario = process.env.YAAD_SCENARIO || 'call';
const say = (what, value) => console.log(`browser: ${what} ${JSON.stringify(value)}`);

// The flags this machine needs: no sandbox (root, no user namespaces), no GPU, nothing that
// reaches the network, a fresh profile; a fake microphone fed from the WAV, the permission
// prompt answered yes; autoplay allowed so Yaad's audio plays (and is counted) without a click.
const profile = mkdtempSync(join(tmpdir(), 'yaad-webrtc-chromium-'));
// (--user-data-dir is the persistent context's profile below.)
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  `--use-file-for-fake-audio-capture=${process.env.YAAD_FAKE_MIC}`,
  '--autoplay-policy=no-user-gesture-required',
];

async function status() {
  return (await fetch(base + '/status')).json();
}

async function until(what, condition, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILL for every process of this Chromium: those whose command line names our own profile. */
function killChromium() {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(profile)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone already */ }
  }
}

let browser;
let exitCode = 0;
try {
  // A persistent context is how playwright takes a fresh --user-data-dir of our own.
  browser = await chromium.launchPersistentContext(profile, { executablePath: process.env.YAAD_CHROMIUM, headless: true, args, timeout: 60000 });
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('404')) console.log('page error: ' + m.text()); });
  page.on('pageerror', (e) => console.log('page exception: ' + e.message));
  await page.goto(base + '/call.html');

  const started = await page.evaluate((trickle) => window.yaad.start({ trickle }), scenario === 'trickle');
  say('connected', started);

  if (scenario === 'vanish') {
    const ms = Number(process.env.YAAD_VANISH_MS || 500);
    await until('Yaad to hear ' + ms + ' ms', async () => (await status()).heardMillis >= ms);
    // No hang-up, no goodbye: the browser process dies as a crashed tab or a lost phone would.
    killChromium();
    browser = null;
    say('vanished', { afterHeardMillis: ms });
  } else {
    // Yaad speaks while it listens; wait until it has heard the whole WAV and finished speaking.
    await until('Yaad to hear the microphone and finish speaking', async () => (await status()).speechDone);
    const stats = await until('reply audio in inbound-rtp', async () => {
      const s = await page.evaluate(() => window.yaad.stats());
      const inbound = s['inbound-rtp'];
      return inbound && inbound.packetsReceived > 0 && inbound.totalAudioEnergy > 0 ? s : null;
    });
    say('stats', stats);

    if (scenario === 'call') {
      say('echo', await page.evaluate(() => window.yaad.echo()));
      const beeps = (await fetch(base + '/beeps', { method: 'POST' })).status;
      if (beeps !== 200) throw new Error('/beeps answered ' + beeps);
      await until('the beeps to end', async () => (await status()).beepsDone, 60000);
      say('detections', await page.evaluate(() => window.yaad.detections()));
    }
    await page.evaluate(() => window.yaad.hangUp());
    say('hung up', {});
  }
  console.log('browser: ok ' + scenario);
} catch (e) {
  console.log('browser: FAILED ' + scenario + ': ' + (e && e.stack || e));
  exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
