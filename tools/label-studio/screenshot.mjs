#!/usr/bin/env node
/**
 * A screenshot of a Label Studio page, taken by headless Chromium (Debian's `chromium` package)
 * driven over the DevTools protocol; no npm dependency (Node's WebSocket, which Node 20 needs
 * `--experimental-websocket` for).
 *
 *   node --experimental-websocket tools/label-studio/screenshot.mjs \
 *     --url http://127.0.0.1:8089 --user admin@example.com --password enricher-secret \
 *     --path '/projects/1/data?task=1' --wait-for '.htx-highlight' --out docs/images/shot.png
 *
 * It signs in through Label Studio's own login form, opens --path, waits until --wait-for matches
 * (the labeling screen's highlighted regions) and the page has settled, then writes a PNG.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8089' },
    user: { type: 'string', default: 'admin@example.com' },
    password: { type: 'string', default: 'enricher-secret' },
    path: { type: 'string' },
    'wait-for': { type: 'string', default: 'body' },
    out: { type: 'string' },
    width: { type: 'string', default: '1440' },
    height: { type: 'string', default: '900' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    'timeout-s': { type: 'string', default: '90' },
  },
});
if (!opt.path || !opt.out) {
  process.stderr.write('usage: screenshot.mjs --path <page> --out <file.png> [--url --user --password --wait-for --width --height]\n');
  process.exit(2);
}
if (typeof WebSocket === 'undefined') {
  process.stderr.write('this Node has no global WebSocket: run it with node --experimental-websocket (Node 20) or Node 22+\n');
  process.exit(2);
}
const width = Number(opt.width);
const height = Number(opt.height);
const deadline = Date.now() + Number(opt['timeout-s']) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[screenshot] ${m}\n`);

const profile = mkdtempSync(join(tmpdir(), 'ls-shot-'));
const browser = spawn(
  opt.chromium,
  ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', `--window-size=${width},${height}`, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let browserErr = '';
browser.stderr.on('data', (c) => (browserErr = (browserErr + c.toString()).slice(-4000)));

/** The browser's DevTools endpoint, from the DevToolsActivePort file Chromium writes. */
async function endpoint() {
  while (Date.now() < deadline) {
    if (browser.exitCode !== null) throw new Error(`chromium exited ${browser.exitCode}: ${browserErr}`);
    try {
      const [port, path] = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').trim().split('\n');
      if (port && path) return `ws://127.0.0.1:${port}${path}`;
    } catch {
      /* not written yet */
    }
    await sleep(100);
  }
  throw new Error('chromium did not open its DevTools port');
}

/** A minimal DevTools client: numbered commands, events by name, one page session. */
class Cdp {
  constructor(ws) {
    this.ws = ws;
    this.next = 1;
    this.pending = new Map();
    this.waiters = [];
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else {
        this.waiters = this.waiters.filter((w) => !(w.method === msg.method && (w.resolve(msg.params), true)));
      }
    });
  }
  send(method, params = {}, sessionId) {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
  once(method) {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }
}

async function main() {
  const ws = new WebSocket(await endpoint());
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  const cdp = new Cdp(ws);
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => cdp.send(method, params, sessionId);
  const evaluate = async (expression) => (await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })).result.value;
  const goto = async (url) => {
    const loaded = cdp.once('Page.loadEventFired');
    await page('Page.navigate', { url });
    await loaded;
  };
  await page('Page.enable');
  await page('Runtime.enable');
  await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });

  log(`signing in to ${opt.url} as ${opt.user}`);
  await goto(`${opt.url}/user/login/`);
  const submitted = await evaluate(`(() => {
    const email = document.querySelector('input[name=email]');
    const password = document.querySelector('input[name=password]');
    if (!email || !password) return false;
    email.value = ${JSON.stringify(opt.user)};
    password.value = ${JSON.stringify(opt.password)};
    password.form.submit();
    return true;
  })()`);
  if (!submitted) throw new Error('no login form at /user/login/');
  await cdp.once('Page.loadEventFired');
  if (String(await evaluate('location.pathname')).startsWith('/user/login')) throw new Error('login refused (user or password)');

  log(`opening ${opt.path}`);
  await goto(`${opt.url}${opt.path}`);
  const selector = JSON.stringify(opt['wait-for']);
  while (!(await evaluate(`document.querySelectorAll(${selector}).length > 0`))) {
    if (Date.now() > deadline) throw new Error(`nothing matched ${opt['wait-for']} before the timeout`);
    await sleep(500);
  }
  await sleep(2000); // fonts, region colours and the side panel settle
  const { data } = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  writeFileSync(opt.out, Buffer.from(data, 'base64'));
  log(`wrote ${opt.out} (${width}×${height}; ${await evaluate(`document.querySelectorAll(${selector}).length`)} elements matched ${opt['wait-for']})`);
  ws.close();
}

try {
  await main();
} catch (err) {
  log(`failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  browser.kill('SIGTERM');
  await sleep(300);
  rmSync(profile, { recursive: true, force: true });
}
