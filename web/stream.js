// Live updates: GET /api/v3/webhook_activity/stream read with fetch (the key
// travels in x-api-key, which EventSource cannot send), text/event-stream
// parsed here. Every connection sends Last-Event-ID (the last id seen), so
// the server replays what changed in between.
//
// The server ends each stream after lifetime_seconds (its hello says so).
// Shortly before that, the next stream is opened and the old one closed
// once the new one answers, so no change waits for a reconnect; the overlap
// may bring a change twice, and ids (boot.seq, growing) drop the repeat.
// A stream that ends or fails otherwise is reopened after `retry:` (or
// 1.5 s), growing on repeated failures, or after a 503's Retry-After.

import { API_BASE, getKey } from './api.js';
import { sleep } from './dom.js';

const STREAM_PATH = `${API_BASE}/webhook_activity/stream`;
const DEFAULT_RETRY_MS = 1500;
const MAX_BACKOFF_MS = 15000;
// A clean end sooner than this after the start counts as a failure (a proxy
// that closes streams), so a broken setup never reconnects in a tight loop.
const HEALTHY_STREAM_MS = 1000;
// How long before the server's end of a stream the next one is opened.
const HANDOFF_LEAD_MS = 1500;

// "boot.seq" -> {boot, seq}, or null for an id of another shape.
function parseId(id) {
  const match = /^(.*)\.(\d+)$/.exec(id);
  return match ? { boot: match[1], seq: Number(match[2]) } : null;
}

export class LiveStream {
  // onMessage({type, data, id}); onState(state, detail): state is
  // 'connecting' | 'open' | 'waiting' | 'stopped'.
  constructor(onMessage, onState) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.retryMs = DEFAULT_RETRY_MS;
    this.controllers = new Set();
    this.running = false;
    this.generation = 0; // a stopped loop notices a newer one by this
    this.forget();
  }

  forget() {
    this.lastEventId = '';
    this.last = null; // parsed lastEventId
    this.boot = '';
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this.stopController = new AbortController();
    this.loop(this.generation, this.stopController.signal);
  }

  // Stops for good: the next start (maybe another key, another project)
  // begins afresh, with no id to resume from.
  stop() {
    this.running = false;
    this.forget();
    for (const controller of this.controllers) controller.abort();
    this.controllers.clear();
    if (this.stopController) this.stopController.abort();
    this.onState('stopped', '');
  }

  live(generation) {
    return this.running && this.generation === generation;
  }

  async loop(generation, stopSignal) {
    let failures = 0;
    let connections = 0;
    let previous = null; // the stream being handed over, still read
    while (this.live(generation)) {
      const controller = new AbortController();
      this.controllers.add(controller);
      let waitMs = this.retryMs;
      if (!previous) this.onState('connecting', connections ? 'reconnecting' : '');
      try {
        const headers = { 'x-api-key': getKey(), accept: 'text/event-stream' };
        const sentId = this.lastEventId;
        if (sentId) headers['last-event-id'] = sentId;
        const res = await fetch(STREAM_PATH, { headers, signal: controller.signal, cache: 'no-store', credentials: 'omit' });
        if (res.ok && res.body) {
          connections += 1;
          this.onState('open', '');
          // The new stream resumes from our last id: the old one can go.
          if (previous) {
            previous.abort();
            this.controllers.delete(previous);
          }
          previous = null;
          const openedAt = Date.now();
          let handoffTimer = 0;
          let reading = null;
          const handoff = new Promise((resolve) => {
            const connection = {
              resumed: Boolean(sentId),
              reconnect: connections > 1,
              onLifetime: (seconds) => {
                const ms = seconds * 1000;
                handoffTimer = setTimeout(resolve, Math.max(ms / 2, ms - HANDOFF_LEAD_MS));
              },
            };
            reading = this.read(res.body, connection).then(() => 'ended', () => 'failed');
          });
          const outcome = await Promise.race([reading, handoff.then(() => 'handoff')]);
          clearTimeout(handoffTimer);
          if (outcome === 'handoff') {
            // Keep reading this one until the next one answers.
            previous = controller;
            failures = 0;
            continue;
          }
          this.controllers.delete(controller);
          if (outcome === 'ended' && Date.now() - openedAt >= HEALTHY_STREAM_MS) {
            failures = 0;
            waitMs = 0;
          } else {
            failures += 1;
            waitMs = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(failures - 1, 4));
            if (outcome === 'failed' && this.live(generation)) this.onState('waiting', 'connection lost');
          }
        } else {
          this.controllers.delete(controller);
          failures += 1;
          res.body?.cancel().catch(() => {});
          const retryAfter = Number.parseInt(res.headers.get('retry-after') || '', 10);
          if (res.status === 401) {
            if (this.live(generation)) {
              this.running = false;
              this.onState('stopped', 'the key was refused');
            }
            return;
          }
          if (res.status === 503 && retryAfter > 0) waitMs = retryAfter * 1000;
          else waitMs = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(failures, 4));
          if (!previous) this.onState('waiting', `server answered ${res.status}`);
        }
      } catch {
        this.controllers.delete(controller);
        if (!this.live(generation)) return;
        failures += 1;
        waitMs = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(failures - 1, 4));
        if (!previous) this.onState('waiting', 'connection lost');
      }
      if (!this.live(generation)) return;
      // A little jitter so many tabs do not reconnect in step.
      if (waitMs > 0) await sleep(waitMs + Math.floor(Math.random() * 250), stopSignal);
    }
  }

  // Reads one response to its end, dispatching each complete event.
  async read(body, connection) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { type: '', data: [], hasData: false, id: '' };
    const lineBreak = /\r\n|\r|\n/;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (;;) {
        const match = lineBreak.exec(buffer);
        if (!match) break;
        // A lone \r at the end may be the first half of \r\n.
        if (match[0] === '\r' && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (event.hasData) this.dispatch(event, connection);
          event = { type: '', data: [], hasData: false, id: '' };
        } else {
          this.field(line, event);
        }
      }
    }
  }

  field(line, event) {
    if (line.startsWith(':')) return; // a comment: the heartbeat
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') event.type = value;
    else if (name === 'data') {
      event.data.push(value);
      event.hasData = true;
    } else if (name === 'id') {
      if (!value.includes('\0')) event.id = value;
    } else if (name === 'retry') {
      if (/^\d+$/.test(value)) this.retryMs = Math.max(250, Number(value));
    }
  }

  dispatch(event, connection) {
    const type = event.type || 'message';
    if (event.id) {
      const parsed = parseId(event.id);
      // Seen already, on the stream being handed over.
      if (parsed && this.last && parsed.boot === this.last.boot && parsed.seq <= this.last.seq) return;
      this.lastEventId = event.id;
      this.last = parsed;
    }
    let data = null;
    try {
      data = JSON.parse(event.data.join('\n'));
    } catch {
      data = null;
    }
    if (type === 'hello') {
      const boot = data && typeof data.boot === 'string' ? data.boot : '';
      const lifetime = data ? Number(data.lifetime_seconds) : 0;
      if (lifetime > 0 && connection.onLifetime) connection.onLifetime(lifetime);
      // A server restarted meanwhile knows nothing of what we saw: without
      // an id to send, it cannot say reset, so we do. (With no id seen on
      // the same boot, nothing changed before the close; the views' own
      // hello refetch covers the moment of the reconnect.)
      const changedBoot = this.boot !== '' && boot !== this.boot;
      this.boot = boot;
      if (connection.reconnect && changedBoot && !connection.resumed) {
        this.onMessage({ type: 'reset', data: {}, id: '' });
        return;
      }
    }
    this.onMessage({ type, data, id: this.lastEventId });
  }
}
