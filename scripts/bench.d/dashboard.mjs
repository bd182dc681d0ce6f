// The dashboard workload of scripts/bench: the page at /ui/ in Debian's
// headless chromium (playwright-core from tests/client), against servers of
// its own, each on a fresh database in a temporary folder (local mode: any
// key is its own project). Issue 15's speed targets, measured:
//   render   navigation -> the first endpoint id shown (a project with 5
//            endpoints), median and max of 10 loads (3 with --quick), each in
//            a fresh browser context after one warm-up load, beside the same
//            browser's navigation to /healthz (its floor on this machine); the
//            page's weight (every response of one load, the live stream aside)
//   live     the events view of a Slack endpoint open; N signed events (100,
//            20 with --quick) sent one at a time to its ingress: from the
//            ingress's 200 (node's clock) to its provider event id shown in
//            the page (the page's clock, corrected by their measured offset)
//   big      an endpoint filled with 10,000 events (2,000 with --quick)
//            through the ingress, then its events view: the first page shown,
//            events in the DOM, the next page (a button named like "Load
//            older"), a click on an event's body toggle, a scroll, the longest
//            main-thread task
//   streams  a fresh server: its RSS idle, then with 32 open streams (4
//            projects) that all received 200 events; a 33rd must get 503
//
// "Shown" is the page's own record, DOM-agnostic: a MutationObserver
// (installed before the page's scripts run) notes when a given text first
// appears in added nodes, then the time after the next paint (a message
// posted from requestAnimationFrame), as performance.timeOrigin +
// performance.now().
//
// Usage: node dashboard.mjs --binary PATH [--quick]
// Prints markdown table rows "| measure | value | target |" on standard
// output as each figure is known (and a last row "| FAILED | why | – |" on
// an error), progress on stderr. Exits non-zero on an error (a page error
// or console error, a failed or refused request, a stream that does not
// open, a text that never shows, a server that does not start or stop
// cleanly), never because a figure is slow.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { binary: { type: 'string' }, quick: { type: 'boolean', default: false } },
  strict: true,
});
if (!values.binary) {
  console.error('usage: node dashboard.mjs --binary PATH [--quick]');
  process.exit(2);
}
const quick = values.quick;
const LOADS = quick ? 3 : 10;
const LIVE_EVENTS = quick ? 20 : 100;
const BIG_EVENTS = quick ? 2000 : 10000;
const FILL_CONCURRENCY = 16;
const STREAMS = 32; // the server's default --max-streams
const STREAM_KEYS = 4;
const STREAM_EVENTS = 200;
const NEXT_PAGE_CLICKS = 3;
const SECRET = 'bench-dashboard-secret-0123456789abcdef';
const STORAGE_KEY = 'webhooks-server.api-key'; // web/api.js
const CHROMIUM = '/usr/bin/chromium';

const started = performance.now();
const say = (message) =>
  console.error(`bench: dashboard: [${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
const now = () => performance.timeOrigin + performance.now(); // epoch ms, as in the page
const row = (measure, value, target) => console.log(`| ${measure} | ${value} | ${target} |`);
const ms = (value) => `${value.toFixed(1)} ms`;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (kib) => `${(kib / 1024).toFixed(1)} MB`;
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
const median = (list) => {
  const s = [...list].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const count = (n) => n.toLocaleString('en-US');

const require = createRequire(new URL('../../tests/client/package.json', import.meta.url));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch {
  console.error('bench: dashboard: playwright-core is missing: (cd tests/client && npm ci) or scripts/install-deps.sh --for-tests');
  process.exit(1);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'webhooks-dashboard.'));
const servers = new Set();
let browser = null;
const agents = [];

// ---- servers -------------------------------------------------------------------

// Starts the binary on a fresh database; resolves once it printed its
// "listening on" line.
async function startServer(name, extra = []) {
  const log = path.join(tmp, `${name}.log`);
  const logFd = openSync(log, 'a');
  const child = spawn(values.binary,
    ['--port', '0', '--db', path.join(tmp, `${name}.db`), ...extra],
    { stdio: ['ignore', 'pipe', logFd] });
  closeSync(logFd);
  const server = { name, child, log, exited: null };
  servers.add(server);
  server.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    server.exited = { code, signal };
    resolve(server.exited);
  }));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${name}: no "listening on" line within 10 s`)), 10_000);
    lines.on('line', (line) => {
      const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    server.exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server ${name} exited at start (${signal || code}): ${tail(log)}`));
    });
  });
  lines.on('line', () => {}); // keep draining its standard output
  server.port = port;
  server.base = `http://127.0.0.1:${port}`;
  say(`server ${name}: pid ${child.pid} on ${server.base}`);
  return server;
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

// SIGTERM, then its exit within 15 s (else SIGKILL); a graceful stop exits 0.
async function stopServer(server) {
  if (server.exited) {
    servers.delete(server);
    throw new Error(`server ${server.name} had died (${server.exited.signal || server.exited.code}): ${tail(server.log)}`);
  }
  server.child.kill('SIGTERM');
  let timer;
  const result = await Promise.race([server.exit,
    new Promise((resolve) => { timer = setTimeout(() => resolve(null), 15_000); })]);
  clearTimeout(timer);
  servers.delete(server);
  if (!result) {
    server.child.kill('SIGKILL');
    throw new Error(`server ${server.name} still running 15 s after SIGTERM`);
  }
  if (result.code !== 0) {
    throw new Error(`server ${server.name} stopped with ${result.signal || result.code}: ${tail(server.log)}`);
  }
}

function rssKb(server) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for server ${server.name}`);
  return Number(match[1]);
}

// ---- the API -------------------------------------------------------------------

function keepAlive(maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  agents.push(agent);
  return agent;
}
const apiAgent = keepAlive(4);

// Resolves with {status, text, headers, t}: t when the answer was complete.
function request(server, method, path, { headers = {}, body, agent = apiAgent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: server.port, path, method, agent,
      headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      timeout: 10_000,
    }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({
        status: res.statusCode, text: Buffer.concat(chunks).toString(), headers: res.headers, t: now(),
      }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function call(server, key, method, path, body, expected) {
  const { status, text } = await request(server, method, `/api/v3${path}`, {
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (status !== expected) {
    throw new Error(`${method} ${path}: ${status} (expected ${expected}): ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

// A Slack endpoint with SECRET as its signing secret: {id, path} (the
// ingress path).
async function slackEndpoint(server, key, clientId) {
  const endpoint = await call(server, key, 'POST', '/webhook_endpoints',
    { toolkit_slug: 'slack', client_id: clientId }, 201);
  await call(server, key, 'PATCH', `/webhook_endpoints/${endpoint.id}`,
    { data: { webhook_signing_secret: SECRET } }, 200);
  return { id: endpoint.id, path: new URL(endpoint.webhook_url).pathname };
}

function slackBody(eventId) {
  return JSON.stringify({
    type: 'event_callback',
    event_id: eventId,
    team_id: 'T1',
    event: { type: 'message', text: `hello from the dashboard bench (${eventId})` },
  });
}

// One signed Slack event (as delivery.mjs sends them); resolves with the time
// its 200 arrived.
async function sendEvent(server, ingressPath, eventId, agent = apiAgent) {
  const body = slackBody(eventId);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
  const { status, text, t } = await request(server, 'POST', ingressPath, {
    agent,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${signature}`,
    },
    body,
  });
  if (status !== 200) throw new Error(`ingress answered ${status} for ${eventId}: ${text.slice(0, 300)}`);
  return t;
}

// ---- the page's instrument (runs in the page before its scripts) -------------

function instrument({ storageKey, key, want }) {
  sessionStorage.setItem(storageKey, key);
  const stamp = () => performance.timeOrigin + performance.now();
  const texts = new Map(); // text awaited -> {found, resolve}
  const armed = new Map(); // name -> {re, known, found, resolve}
  const longTasks = [];
  let lastClick = 0;
  // After the next paint: a message posted from the frame's callback runs
  // once the frame is produced.
  const afterPaint = (fn) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => fn(stamp());
    channel.port2.postMessage(0);
  });
  const settle = (entry, extra) => {
    entry.found = { dom: stamp(), ...extra };
    afterPaint((shown) => {
      entry.found.shown = shown;
      for (const resolve of entry.waiters) resolve(entry.found);
      entry.waiters = [];
      entry.done = true;
    });
  };
  const check = (text) => {
    if (!text) return;
    for (const [wanted, entry] of texts) {
      if (!entry.found && text.includes(wanted)) settle(entry, { text: wanted });
    }
    for (const entry of armed.values()) {
      if (entry.found) continue;
      entry.re.lastIndex = 0;
      for (const match of text.matchAll(entry.re)) {
        if (!entry.known.has(match[0])) {
          settle(entry, { text: match[0] });
          break;
        }
      }
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'characterData') check(record.target.data);
      else for (const node of record.addedNodes) check(node.textContent);
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no long task timing: reported as unknown */ }
  addEventListener('click', (event) => { lastClick = performance.timeOrigin + event.timeStamp; }, true);
  const entryFor = (text) => {
    if (!texts.has(text)) texts.set(text, { found: null, waiters: [], done: false });
    return texts.get(text);
  };
  const wait = (entry, ms, what) => new Promise((resolve, reject) => {
    if (entry.done) return resolve(entry.found);
    entry.waiters.push(resolve);
    setTimeout(() => reject(new Error(`${what} not shown within ${ms} ms`)), ms);
  });
  for (const text of want || []) entryFor(text);
  window.__bench = {
    want(text) { entryFor(text); },
    // The first of several awaited texts to show.
    first(list, ms) {
      return Promise.race(list.map((text) => wait(entryFor(text), ms, `none of ${list.join(', ')}`)));
    },
    when(text, ms) { return wait(entryFor(text), ms, text); },
    // A match of `source` (a regular expression) not in `known` appearing.
    arm(name, source, known) {
      armed.set(name, { re: new RegExp(source, 'g'), known: new Set(known), found: null, waiters: [], done: false });
    },
    armed(name, ms) { return wait(armed.get(name), ms, `a new match for ${name}`); },
    disarm(name) { armed.delete(name); },
    distinct(source) {
      return [...new Set(document.body.textContent.match(new RegExp(source, 'g')) || [])];
    },
    lastClick() { return lastClick; },
    elements() { return document.getElementsByTagName('*').length; },
    longTasks() { return longTasks; },
    origin() { return performance.timeOrigin; },
  };
}

// ---- the browser ---------------------------------------------------------------

const problems = [];
function problem(text) {
  if (problems.length < 20) say(`PROBLEM: ${text}`);
  problems.push(text);
}
function checkProblems(part) {
  if (problems.length) throw new Error(`${part}: ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`);
}

const isStream = (url) => url.includes('/webhook_activity/stream');

// A fresh context (session storage, cache) with the key set and the
// instrument installed; page errors, console errors, failed requests and
// error statuses become problems. Resolves with {page, requests, close}.
async function openPage(key, want = []) {
  const context = await browser.newContext();
  await context.addInitScript(instrument, { storageKey: STORAGE_KEY, key, want });
  const page = await context.newPage();
  const state = { closing: false, requests: [], inFlight: new Set(), lastActivity: now() };
  page.on('pageerror', (error) => problem(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !state.closing) problem(`console error: ${message.text()}`);
  });
  page.on('request', (req) => {
    state.requests.push(req);
    if (!isStream(req.url())) state.inFlight.add(req);
    state.lastActivity = now();
  });
  const done = (req) => {
    state.inFlight.delete(req);
    state.lastActivity = now();
  };
  page.on('requestfinished', done);
  page.on('requestfailed', (req) => {
    done(req);
    if (!state.closing) problem(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problem(`${res.request().method()} ${res.url()} answered ${res.status()}`);
  });
  return {
    page,
    state,
    // Resolves once no request (but the stream) is in flight and none
    // started for `quietMs`; at most 10 s.
    async settled(quietMs = 300) {
      const deadline = now() + 10_000;
      while (state.inFlight.size || now() - state.lastActivity < quietMs) {
        if (now() > deadline) throw new Error(`the page's requests did not settle within 10 s (${state.inFlight.size} in flight)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      state.closing = true;
      await context.close();
    },
  };
}

// Waits for the page's stream response; a non-200 is an error. Awaited
// after other waits, which may fail first: its own failure is then moot.
function streamOpened(page) {
  const opened = page.waitForResponse((res) => isStream(res.url()), { timeout: 10_000 }).then((res) => {
    if (res.status() !== 200) throw new Error(`the page's live stream answered ${res.status()}`);
  }, () => { throw new Error('the page opened no live stream within 10 s'); });
  opened.catch(() => {});
  return opened;
}

// The page's clock minus node's (both epoch ms from timeOrigin), from the
// evaluation with the shortest round trip: {offset, error}.
async function clockOffset(page) {
  let best = null;
  for (let i = 0; i < 7; i++) {
    const t1 = now();
    const tp = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t2 = now();
    if (!best || t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: tp - (t1 + t2) / 2 };
  }
  return { offset: best.offset, error: best.rtt / 2 };
}

// ---- a. first render -------------------------------------------------------------

async function firstRender(server) {
  const key = 'bench-dash-render';
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    const endpoint = await call(server, key, 'POST', '/webhook_endpoints',
      { toolkit_slug: 'slack', client_id: `bench-dash-${i}` }, 201);
    ids.push(endpoint.id);
  }
  const times = [];
  const floors = [];
  const scripts = [];
  let weight = null;
  for (let i = 0; i <= LOADS; i++) {
    const view = await openPage(key, ids);
    const { page } = view;
    const opened = streamOpened(page);
    await page.goto(`${server.base}/ui/`);
    const found = await page.evaluate(({ list }) => window.__bench.first(list, 10_000), { list: ids });
    const origin = await page.evaluate(() => window.__bench.origin());
    const loaded = await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd);
    if (!(await page.getByText(found.text).first().isVisible())) {
      problem(`the endpoint id ${found.text} is in the DOM but not visible`);
    }
    await opened;
    if (i === 0) {
      say(`first render: warm-up load ${ms(found.shown - origin)}`);
    } else {
      times.push(found.shown - origin);
      scripts.push(loaded);
      if (!weight) {
        // Everything the load asks for, the refreshes its stream's first
        // messages cause included.
        await view.settled();
        weight = await pageWeight(view);
      }
    }
    await view.close();
    checkProblems('first render');
    if (i > 0) floors.push(await browserFloor(server));
  }
  say(`first render: ${times.map((t) => t.toFixed(1)).join(', ')} ms; /healthz: ${floors.map((t) => t.toFixed(1)).join(', ')} ms`);
  row(`first render: navigation → first endpoint id shown (5 endpoints), ${LOADS} loads after 1 warm-up`,
    `median ${ms(median(times))}, max ${ms(Math.max(...times))} (its scripts loaded, DOMContentLoaded: median ` +
    `${ms(median(scripts))}; the same browser's navigation to /healthz, to its load event: median ${ms(median(floors))})`,
    '≤ 200 ms');
  row('page weight: every response of one load but the live stream (bodies as sent)',
    `${kb(weight.sent)} (${kb(weight.decoded)} decoded) in ${weight.requests} requests + the stream; ` +
    `${weight.api} API calls, ${weight.repeats} of them repeats`,
    '< 100 KB');
}

// The browser's own floor on this machine: a fresh context's navigation to
// GET /healthz (no script, no database), to the end of its load event. Not
// the dashboard: its problems are not ours (the browser's own request for
// /favicon.ico gets a 404).
async function browserFloor(server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(`${server.base}/healthz`);
  if (res.status() !== 200) throw new Error(`GET /healthz in the browser: ${res.status()}`);
  const end = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
  await context.close();
  return end;
}

async function pageWeight(view) {
  let sent = 0;
  let decoded = 0;
  let requests = 0;
  let api = 0;
  const calls = new Set();
  for (const req of view.state.requests) {
    if (isStream(req.url())) continue;
    const res = await req.response();
    if (!res) continue;
    requests++;
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/')) {
      api++;
      calls.add(`${req.method()} ${url.pathname}${url.search}`);
    }
    sent += (await req.sizes()).responseBodySize;
    decoded += (await res.body()).length;
  }
  return { sent, decoded, requests, api, repeats: api - calls.size };
}

// ---- b. event visible latency -------------------------------------------------------

async function liveLatency(server) {
  const key = 'bench-dash-live';
  const endpoint = await slackEndpoint(server, key, 'bench-dash-live');
  const view = await openPage(key);
  const { page } = view;
  const opened = streamOpened(page);
  await page.goto(`${server.base}/ui/#/events/${endpoint.id}`);
  await opened;
  const run = Date.now().toString(36);
  const agent = keepAlive(1);
  // Warm-up events (not counted): the view has loaded and follows the stream.
  for (let i = 0; i < 3; i++) {
    const eventId = `EvWarm${run}-${i}`;
    await page.evaluate((text) => window.__bench.want(text), eventId);
    await sendEvent(server, endpoint.path, eventId, agent);
    await page.evaluate((text) => window.__bench.when(text, 10_000), eventId);
  }
  const clock = await clockOffset(page);
  say(`live: page clock − node clock ${ms(clock.offset)} ± ${ms(clock.error)}; ${LIVE_EVENTS} events`);
  const shown = [];
  const inDom = [];
  let early = 0;
  for (let i = 0; i < LIVE_EVENTS; i++) {
    const eventId = `EvLive${run}-${i}`;
    await page.evaluate((text) => window.__bench.want(text), eventId);
    const answered = await sendEvent(server, endpoint.path, eventId, agent);
    const found = await page.evaluate((text) => window.__bench.when(text, 5_000), eventId);
    const delta = found.shown - clock.offset - answered;
    if (delta < 0) early++;
    shown.push(Math.max(0, delta));
    inDom.push(Math.max(0, found.dom - clock.offset - answered));
  }
  await view.close();
  checkProblems('event latency');
  shown.sort((a, b) => a - b);
  inDom.sort((a, b) => a - b);
  row(`event visible: ingress 200 → its provider event id shown, ${LIVE_EVENTS} sequential events`,
    `p50 ${ms(percentile(shown, 0.5))}, p99 ${ms(percentile(shown, 0.99))}, max ${ms(shown[shown.length - 1])} ` +
    `(in the DOM: p50 ${ms(percentile(inDom, 0.5))}; clocks ± ${ms(clock.error)}${early ? `; ${early} before the 200, counted as 0` : ''})`,
    'p50 ≤ 100 ms');
}

// ---- c. 10,000 events -------------------------------------------------------------

async function bigList(server) {
  const key = 'bench-dash-big';
  const endpoint = await slackEndpoint(server, key, 'bench-dash-big');
  const run = Date.now().toString(36);
  const prefix = `EvBig${run}-`;
  const agent = keepAlive(FILL_CONCURRENCY);
  say(`big: ${count(BIG_EVENTS)} events through the ingress, ${FILL_CONCURRENCY} connections`);
  const fillStart = now();
  let next = 0;
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, async () => {
    while (next < BIG_EVENTS) {
      const i = next++;
      await sendEvent(server, endpoint.path, `${prefix}${i}`, agent);
    }
  }));
  const fillSeconds = (now() - fillStart) / 1000;
  agent.destroy();
  row(`${count(BIG_EVENTS)} events: filling one endpoint through the ingress (${FILL_CONCURRENCY} connections)`,
    `${fillSeconds.toFixed(1)} s, ${Math.round(BIG_EVENTS / fillSeconds)} events/s`, '–');
  const newest = await call(server, key, 'GET', `/webhook_endpoints/${endpoint.id}/events?limit=1`, undefined, 200);
  const newestId = newest.items?.[0]?.provider_event_id;
  if (!newestId?.startsWith(prefix)) throw new Error(`big: the newest event is ${JSON.stringify(newest).slice(0, 200)}`);

  const view = await openPage(key, [newestId]);
  const { page } = view;
  const opened = streamOpened(page);
  await page.goto(`${server.base}/ui/#/events/${endpoint.id}`);
  const first = await page.evaluate((text) => window.__bench.when(text, 15_000), newestId);
  const origin = await page.evaluate(() => window.__bench.origin());
  await opened;
  await view.settled();
  const idPattern = `${prefix}\\d+`;
  const distinct = () => page.evaluate((source) => window.__bench.distinct(source), idPattern);
  let shownIds = await distinct();
  const elements = await page.evaluate(() => window.__bench.elements());
  row(`${count(BIG_EVENTS)} events: events view opened → newest event shown`,
    ms(first.shown - origin), '–');
  row(`${count(BIG_EVENTS)} events: events in the DOM after opening`,
    `${shownIds.length} (${count(elements)} elements in the page)`, `paged, not ${count(BIG_EVENTS)}`);

  // The next page: a button named like "Load older events" / "Load more" / "Next".
  const more = page.getByRole('button', { name: /older|more|next/i });
  if (await more.count() === 0) {
    row(`${count(BIG_EVENTS)} events: next page`, 'not measured: no button named older, more or next', 'responsive');
  } else {
    const times = [];
    for (let i = 0; i < NEXT_PAGE_CLICKS; i++) {
      await page.evaluate(({ source, known }) => window.__bench.arm('next', source, known),
        { source: idPattern, known: shownIds });
      await more.first().click();
      const found = await page.evaluate(() => window.__bench.armed('next', 10_000));
      const clicked = await page.evaluate(() => window.__bench.lastClick());
      times.push(found.shown - clicked);
      await view.settled(100);
      shownIds = await distinct();
      if (await more.count() === 0) break;
    }
    const name = (await more.count()) ? await more.first().textContent() : 'the next-page button';
    row(`${count(BIG_EVENTS)} events: click "${name.trim()}" → a new event shown, ${times.length} clicks`,
      `median ${ms(median(times))}, max ${ms(Math.max(...times))}; then ${shownIds.length} events in the DOM`,
      'responsive');
  }

  // An event's body: through a "raw" toggle if the body is shown inline,
  // else by clicking the event's provider id.
  const rawPattern = `"event_id":"${prefix}\\d+"`;
  const raw = page.getByRole('button', { name: /raw/i });
  let measure;
  let target;
  if (await raw.count()) {
    target = raw.first();
    measure = `click "${(await target.textContent()).trim()}" → the raw body shown`;
    await page.evaluate(({ source }) => window.__bench.arm('body', source, []), { source: rawPattern });
  } else {
    target = page.getByText(newestId, { exact: true }).first();
    measure = 'click the newest event → its body shown';
    await page.evaluate(({ source }) => window.__bench.arm('body', source, []),
      { source: '"team_id"|"event_callback"' });
  }
  await target.click();
  const body = await page.evaluate(() => window.__bench.armed('body', 10_000));
  const clicked = await page.evaluate(() => window.__bench.lastClick());
  row(`${count(BIG_EVENTS)} events: ${measure}`, ms(body.shown - clicked), 'responsive');

  // Scrolling to the bottom and back: the time to the next frame after each.
  const scroll = await page.evaluate(async () => {
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const times = [];
    for (const y of [document.documentElement.scrollHeight, 0, document.documentElement.scrollHeight]) {
      const t0 = performance.now();
      window.scrollTo(0, y);
      await frame();
      times.push(performance.now() - t0);
    }
    return Math.max(...times);
  });
  const tasks = await page.evaluate(() => window.__bench.longTasks());
  const longest = tasks.reduce((max, task) => Math.max(max, task.duration), 0);
  row(`${count(BIG_EVENTS)} events: scroll to the bottom and back (2 frames each, worst) / longest main-thread task in the view`,
    `${ms(scroll)} / ${tasks.length ? `${ms(longest)} (${tasks.length} over 50 ms)` : 'none over 50 ms'}`,
    'responsive');
  await view.close();
  checkProblems(`${count(BIG_EVENTS)} events`);
}

// ---- d. memory with 32 streams --------------------------------------------------

// Opens a stream with node's fetch and reads it continuously, counting
// "event: event" messages. Resolves once its first message (hello) arrived.
async function openStream(server, key, index) {
  const controller = new AbortController();
  const res = await fetch(`${server.base}/api/v3/webhook_activity/stream`, {
    headers: { 'x-api-key': key, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const stream = { key, index, status: res.status, retryAfter: res.headers.get('retry-after'), events: 0, controller };
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    return stream;
  }
  let greeted;
  stream.greeted = new Promise((resolve) => { greeted = resolve; });
  stream.reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: hello$/m.test(message)) greeted();
          if (/^event: event$/m.test(message)) stream.events++;
        }
      }
      stream.ended = true;
    } catch (error) {
      if (!controller.signal.aborted) stream.error = error.message;
    }
  })();
  return stream;
}

async function streamMemory() {
  const server = await startServer('streams', ['--event-retention', '20000']);
  const keys = Array.from({ length: STREAM_KEYS }, (_, i) => `bench-dash-stream-${i}`);
  const endpoints = [];
  for (const key of keys) endpoints.push(await slackEndpoint(server, key, `bench-dash-stream-${key}`));
  // Warm: every project stored events before, so the difference is the streams'.
  const run = Date.now().toString(36);
  for (let i = 0; i < 5 * STREAM_KEYS; i++) {
    await sendEvent(server, endpoints[i % STREAM_KEYS].path, `EvIdle${run}-${i}`);
  }
  const idle = rssKb(server);
  say(`streams: RSS idle ${mb(idle)}; opening ${STREAMS} streams over ${STREAM_KEYS} keys`);
  const streams = await Promise.all(Array.from({ length: STREAMS },
    (_, i) => openStream(server, keys[i % STREAM_KEYS], i)));
  try {
    const refused = streams.filter((s) => s.status !== 200);
    if (refused.length) throw new Error(`streams: ${refused.length} of ${STREAMS} did not open (status ${refused[0].status})`);
    const deadline = (promise, msLimit, what) => {
      let timer;
      return Promise.race([promise.finally(() => clearTimeout(timer)),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(what)), msLimit); })]);
    };
    await deadline(Promise.all(streams.map((s) => s.greeted)), 10_000, 'streams: not every stream said hello within 10 s');
    const extra = await openStream(server, keys[0], STREAMS);
    if (extra.status === 200) extra.controller.abort();
    row(`a stream beyond the ${STREAMS} open`, `${extra.status}${extra.retryAfter ? ` (Retry-After ${extra.retryAfter})` : ''}`, '503');
    if (extra.status !== 503) throw new Error(`streams: the ${STREAMS + 1}th stream got ${extra.status}, expected 503`);
    // 200 events over the projects while the streams are open: each stream
    // writes every event of its project.
    const agent = keepAlive(8);
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < STREAM_EVENTS) {
        const i = next++;
        await sendEvent(server, endpoints[i % STREAM_KEYS].path, `EvStream${run}-${i}`, agent);
      }
    }));
    const perKey = STREAM_EVENTS / STREAM_KEYS;
    const limit = now() + 10_000;
    while (streams.some((s) => s.events < perKey)) {
      const broken = streams.find((s) => s.error || s.ended);
      if (broken) throw new Error(`streams: stream ${broken.index} ended early: ${broken.error || 'end of stream'}`);
      if (now() > limit) {
        const late = streams.filter((s) => s.events < perKey);
        throw new Error(`streams: ${late.length} stream(s) short of ${perKey} events after 10 s (e.g. ${late[0].events})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const over = streams.find((s) => s.events > perKey);
    if (over) throw new Error(`streams: stream ${over.index} got ${over.events} events, expected ${perKey}`);
    const open = rssKb(server);
    row(`server RSS: idle → ${STREAMS} open streams (${STREAM_KEYS} projects) after ${STREAM_EVENTS} events reached each`,
      `${mb(idle)} → ${mb(open)} (${open >= idle ? '+' : '−'}${mb(Math.abs(open - idle))})`, '≤ +8 MB');
  } finally {
    for (const s of streams) s.controller.abort();
    await Promise.all(streams.map((s) => s.reading));
  }
  await stopServer(server);
}

// ---- the run ----------------------------------------------------------------------

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

async function main() {
  const loadBefore = loadAverage();
  const server = await startServer('page', ['--event-retention', '20000']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  say(`chromium ${browser.version()}`);
  say(`first render: ${LOADS} loads`);
  await firstRender(server);
  say(`event latency: ${LIVE_EVENTS} events`);
  await liveLatency(server);
  await bigList(server);
  await browser.close();
  browser = null;
  await stopServer(server);
  await streamMemory();
  row('machine: load average (1 min) at the start → at the end', `${loadBefore} → ${loadAverage()} on ${availableParallelism()} cores`, '–');
}

// Stops what is left (servers, browser) and exits; once.
let finishing = null;
function finish(status, why) {
  if (finishing) return finishing;
  if (why) {
    // Problems seen in the page (a console error, say) often tell why a
    // text never showed.
    if (problems.length && !why.includes('problem(s)')) why += `; the page's problems: ${problems.slice(0, 3).join('; ')}`;
    say(`FAILED: ${why}`);
    // In the report too, as the table's last row.
    row('FAILED', why.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 500), '–');
  }
  finishing = (async () => {
    for (const agent of agents) agent.destroy();
    if (browser) await browser.close().catch(() => {});
    for (const server of servers) {
      if (!server.exited) server.child.kill('SIGKILL');
      await server.exit;
    }
    rmSync(tmp, { recursive: true, force: true });
    say(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    process.exit(status);
  })();
  return finishing;
}
process.on('unhandledRejection', (error) => finish(1, error?.message ?? String(error)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => finish(1, `stopped by ${signal}`));

try {
  await main();
  await finish(0);
} catch (error) {
  await finish(1, error.message);
}
