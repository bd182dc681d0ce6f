// The delivery workload of scripts/bench: a webhook receiver on 127.0.0.1 that
// answers 200 at once and counts what arrives, the subscription that points at
// it, and the measurements made from the same process (one clock).
//
// Usage: node delivery.mjs --url BASE --key KEY --plain-key KEY --secret S
// At start it checks that --plain-key's project (the plain ingress rows) has
// no subscription, and gives --key's project a Slack endpoint signed with S
// and a subscription to the receiver; then prints one line
//   ready port=P endpoint_id=ID ingress_path=PATH subscription_id=ID
// and answers commands read from standard input, one line each, with one line
// "ok key=value ..." or "error WHY" (progress and details go to stderr):
//   latency N           N signed events, one at a time on one connection;
//                       each timed from the client's 200 to the receiver's
//                       arrival of its delivery (matched by data.event_id),
//                       the next sent once it arrived: n, p50_us, p99_us,
//                       max_us, early (arrivals before the 200, counted as 0)
//   window              starts counting arrivals afresh (before a wrk run)
//   drain EXPECTED S    waits, at most S seconds, until the window holds
//                       EXPECTED arrivals and the server's GET /metrics says
//                       webhooks_deliveries_waiting 0: arrived, span_us (first
//                       to last arrival), at_end (arrivals when the command
//                       came, i.e. when wrk stopped), waiting_at_end, ended_us
//                       (command to last arrival), drained_us (to waiting 0)
//   check               a sample through the API: a page of succeeded
//                       deliveries, and 5 of them with their attempt log
//   totals              unique, duplicates (a webhook-id seen again), bad
// End of input stops it.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    'plain-key': { type: 'string' },
    secret: { type: 'string' },
  },
  strict: true,
});
if (!values.url || !values.key || !values['plain-key'] || !values.secret) {
  console.error('usage: node delivery.mjs --url BASE --key KEY --plain-key KEY --secret S');
  process.exit(2);
}
const base = new URL(values.url);
const say = (message) => console.error(`bench: delivery: ${message}`);
const now = () => performance.now(); // milliseconds, sub-microsecond resolution

// ---- the receiver ----------------------------------------------------------

const seen = new Set(); // webhook-id of every delivery that arrived
const totals = { unique: 0, duplicates: 0, bad: 0 };
let window = { count: 0, first: 0, last: 0 };
// Latency mode: event id -> arrival time, and the one arrival awaited.
let latencyMode = false;
const arrivedAt = new Map();
let awaited = null; // { eventId, resolve }

const receiver = http.createServer((req, res) => {
  const t = now();
  res.writeHead(200, { 'content-length': '0' });
  res.end();
  const chunks = [];
  req.on('data', (chunk) => { if (latencyMode) chunks.push(chunk); });
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    if (req.method !== 'POST' || !id) {
      totals.bad++;
      return;
    }
    if (seen.has(id)) {
      totals.duplicates++;
      return;
    }
    seen.add(id);
    totals.unique++;
    if (window.count++ === 0) window.first = t;
    window.last = t;
    if (!latencyMode) return;
    let eventId;
    try {
      eventId = JSON.parse(Buffer.concat(chunks).toString()).data.event_id;
    } catch {
      totals.bad++;
      return;
    }
    arrivedAt.set(eventId, t);
    if (awaited && awaited.eventId === eventId) awaited.resolve();
  });
});
receiver.keepAliveTimeout = 60_000; // the server's pooled connections stay
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const port = receiver.address().port;

// ---- the API ---------------------------------------------------------------

// One request on a connection of its own, closed after the answer: scripts/bench
// waits, before and after each run, until the server holds no connection, and
// fetch() would keep one open for seconds.
function request(method, path, { headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: base.port, path, method, agent,
      headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      timeout: 10_000,
    }, (res) => {
      const chunks = [];
      const t = now();
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString(), t }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function call(method, path, key, body, expected) {
  const { status, text } = await request(method, path, {
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (status !== expected) {
    throw new Error(`${method} ${path}: ${status} (expected ${expected}): ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

async function waitingDeliveries() {
  const { status, text } = await request('GET', '/metrics');
  const match = /^webhooks_deliveries_waiting (\d+)$/m.exec(text);
  if (status !== 200 || !match) {
    throw new Error(`GET /metrics: ${status}, no webhooks_deliveries_waiting`);
  }
  return Number(match[1]);
}

const api = '/api/v3.1';
let subscriptionId;
let endpointId;
let ingressPath;
try {
  const plain = await call('GET', `${api}/webhook_subscriptions`, values['plain-key'], undefined, 200);
  if (plain.items.length !== 0) {
    throw new Error(`the plain ingress project has ${plain.items.length} subscription(s), expected none`);
  }
  const endpoint = await call('POST', `${api}/webhook_endpoints`, values.key,
    { toolkit_slug: 'slack', client_id: 'bench-subscribed' }, 201);
  await call('PATCH', `${api}/webhook_endpoints/${endpoint.id}`, values.key,
    { data: { webhook_signing_secret: values.secret } }, 200);
  endpointId = endpoint.id;
  ingressPath = new URL(endpoint.webhook_url).pathname;
  const subscription = await call('POST', `${api}/webhook_subscriptions`, values.key,
    { webhook_url: `http://127.0.0.1:${port}/hook`, enabled_events: ['composio.trigger.message'] }, 201);
  subscriptionId = subscription.id;
} catch (error) {
  say(`set-up: ${error.message}`);
  process.exit(1);
}

// ---- the commands ----------------------------------------------------------

// Sends one signed Slack event on `agent`'s connection; resolves with the
// time its 200 arrived.
async function sendEvent(agent, eventId) {
  const body = JSON.stringify({
    type: 'event_callback',
    event_id: eventId,
    team_id: 'T1',
    event: { type: 'message', text: 'hello' },
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', values.secret).update(`v0:${timestamp}:${body}`).digest('hex');
  const { status, text, t } = await request('POST', ingressPath, {
    agent,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${signature}`,
    },
    body,
  });
  if (status !== 200) throw new Error(`ingress answered ${status}: ${text.slice(0, 300)}`);
  return t;
}

function arrival(eventId, ms) {
  if (arrivedAt.has(eventId)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      awaited = null;
      reject(new Error(`the delivery of ${eventId} did not arrive within ${ms / 1000} s`));
    }, ms);
    awaited = { eventId, resolve: () => { clearTimeout(timer); awaited = null; resolve(); } };
  });
}

const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
const us = (ms) => Math.round(ms * 1000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function latency(n) {
  latencyMode = true;
  arrivedAt.clear();
  const run = Date.now().toString(36);
  const samples = [];
  let early = 0;
  // One keep-alive connection for the events, closed after them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < n; i++) {
      const eventId = `EvLat${run}-${i}`;
      const acked = await sendEvent(agent, eventId);
      await arrival(eventId, 5_000);
      const delta = arrivedAt.get(eventId) - acked;
      if (delta < 0) early++;
      samples.push(Math.max(0, delta));
    }
  } finally {
    latencyMode = false;
    agent.destroy();
  }
  samples.sort((a, b) => a - b);
  return `n=${n} p50_us=${us(percentile(samples, 0.5))} p99_us=${us(percentile(samples, 0.99))} ` +
    `max_us=${us(samples[n - 1])} early=${early}`;
}

async function drain(expected, seconds) {
  const start = now();
  const deadline = start + seconds * 1000;
  const atEnd = window.count;
  const waitingAtEnd = await waitingDeliveries();
  while (window.count < expected) {
    if (now() > deadline) {
      throw new Error(`${window.count} of ${expected} deliveries arrived within ${seconds} s`);
    }
    await sleep(10);
  }
  // Arrived; finished (the attempt recorded) once the queue is empty.
  let waiting;
  while ((waiting = await waitingDeliveries()) > 0) {
    if (now() > deadline) {
      throw new Error(`all ${expected} arrived, but webhooks_deliveries_waiting is still ${waiting} after ${seconds} s`);
    }
    await sleep(50);
  }
  const drained = now();
  if (window.count !== expected) {
    throw new Error(`${window.count} deliveries arrived for ${expected} events stored`);
  }
  return `arrived=${window.count} span_us=${us(window.last - window.first)} at_end=${atEnd} ` +
    `waiting_at_end=${waitingAtEnd} ended_us=${us(Math.max(0, window.last - start))} ` +
    `drained_us=${us(drained - start)}`;
}

async function check() {
  const path = `${api}/webhook_subscriptions/${subscriptionId}/deliveries`;
  const page = await call('GET', `${path}?status=succeeded&limit=100`, values.key, undefined, 200);
  if (page.items.length === 0) throw new Error('no succeeded deliveries listed');
  for (const item of page.items) {
    if (item.status !== 'succeeded' || item.attempts !== 1 || item.last_status_code !== 200) {
      throw new Error(`delivery ${item.id}: status ${item.status}, ${item.attempts} attempt(s), last status ${item.last_status_code}`);
    }
  }
  for (const item of page.items.slice(0, 5)) {
    const one = await call('GET', `${path}/${item.id}`, values.key, undefined, 200);
    const log = one.attempt_log;
    if (log.length !== 1 || log[0].status_code !== 200 || log[0].error_class !== null) {
      throw new Error(`delivery ${item.id}: attempt log ${JSON.stringify(log).slice(0, 300)}`);
    }
  }
  return `sampled=${page.items.length} detailed=${Math.min(5, page.items.length)}`;
}

async function run(line) {
  const [command, ...args] = line.trim().split(/\s+/);
  const number = (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`bad number: ${text}`);
    return value;
  };
  switch (command) {
    case 'latency': return latency(Math.max(1, number(args[0])));
    case 'window': window = { count: 0, first: 0, last: 0 }; return '';
    case 'drain': return drain(number(args[0]), number(args[1]));
    case 'check': return check();
    case 'totals': return `unique=${totals.unique} duplicates=${totals.duplicates} bad=${totals.bad}`;
    default: throw new Error(`unknown command: ${line}`);
  }
}

console.log(`ready port=${port} endpoint_id=${endpointId} ingress_path=${ingressPath} subscription_id=${subscriptionId}`);
// One command at a time: scripts/bench waits for each answer.
for await (const line of createInterface({ input: process.stdin })) {
  try {
    console.log(`ok ${await run(line)}`.trimEnd());
  } catch (error) {
    say(`${line.trim()}: ${error.message}`);
    console.log(`error ${error.message}`);
  }
}
receiver.closeAllConnections();
receiver.close();
