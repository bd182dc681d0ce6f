// Events of one endpoint, newest first, live: each with its received time,
// provider event id, the headers kept, the body pretty-printed (raw on
// demand) and "copy as curl". Every value is attacker-controlled text.

import { api, query, seg, listAll } from './api.js';
import { h, clear, field, time } from './dom.js';
import { showError, copyText, button, notify } from './ui.js';

const PAGE_SIZE = 20;
// Headers curl computes itself, or that would make the copy misbehave.
const CURL_SKIPPED = new Set(['content-length', 'host', 'transfer-encoding', 'connection', 'expect']);

export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

function utf8ToBase64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

// A POST of the event's body to `url` with its kept headers, every value
// single-quoted for a POSIX shell. --data-raw never reads a file (a body
// starting with @ stays text); a body a shell argument cannot hold (binary,
// or a NUL) goes through base64 -d on standard input.
export function curlCommand(url, event) {
  const parts = ['curl', '-X', 'POST', shellQuote(url)];
  for (const [name, value] of Object.entries(event.headers || {})) {
    if (!CURL_SKIPPED.has(name.toLowerCase())) parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  const body = String(event.body ?? '');
  if (event.body_encoding === 'base64' || body.includes('\0')) {
    const b64 = event.body_encoding === 'base64' ? body : utf8ToBase64(body);
    return `printf '%s' ${shellQuote(b64)} | base64 -d | ${parts.join(' ')} --data-binary @-`;
  }
  parts.push('--data-raw', shellQuote(body));
  return parts.join(' ');
}

function prettyBody(event) {
  if (event.body_encoding === 'base64') return { text: event.body, note: 'Binary body, shown as base64.' };
  try {
    return { text: JSON.stringify(JSON.parse(event.body), null, 2), note: '' };
  } catch {
    return { text: event.body, note: 'Not JSON: shown as received.' };
  }
}

export function mountEvents(root, endpointIdParam) {
  let endpointId = endpointIdParam;
  let endpoint = null;
  let alive = true;
  let nextCursor = null;
  const known = new Map(); // event id -> its list item
  let fetching = null;
  let fetchAgain = false;

  const picker = h('select', { id: 'events-endpoint', name: 'endpoint' });
  const info = h('div', { class: 'endpoint-info' });
  const list = h('ol', { class: 'events', attrs: { 'aria-label': 'Events, newest first' } });
  const status = h('p', { class: 'muted', attrs: { role: 'status' } });
  const more = h('div', { class: 'actions pager' });
  root.append(h('h1', { id: 'events-title', text: 'Events' }),
    h('div', { class: 'panel row' }, field('Endpoint', picker)), info, status, list, more);
  picker.addEventListener('change', () => {
    if (picker.value) location.hash = `#/events/${picker.value}`;
  });

  async function start() {
    let endpoints;
    try {
      endpoints = await listAll('/webhook_endpoints', { limit: 200 });
    } catch (err) {
      showError(err);
      return;
    }
    if (!alive) return;
    if (!endpoints.length) {
      status.textContent = 'No endpoints yet: create one in Endpoints first.';
      picker.append(h('option', { value: '', text: '(none)' }));
      return;
    }
    for (const item of endpoints) picker.append(h('option', { value: item.id, text: `${item.client_id} (${item.toolkit_slug}, ${item.id})` }));
    if (!endpointId || !endpoints.some((e) => e.id === endpointId)) {
      endpointId = endpoints[0].id;
      history.replaceState(null, '', `#/events/${endpointId}`);
    }
    picker.value = endpointId;
    await load();
  }

  async function load() {
    known.clear();
    clear(list);
    clear(more);
    try {
      endpoint = await api('GET', `/webhook_endpoints/${seg(endpointId)}`);
      const page = await api('GET', `/webhook_endpoints/${seg(endpointId)}/events${query({ limit: PAGE_SIZE })}`);
      if (!alive) return;
      renderInfo();
      for (const event of page.items || []) addEvent(event, 'end', false);
      setMore(page.next_cursor);
      updateStatus();
    } catch (err) {
      showError(err);
    }
  }

  function renderInfo() {
    clear(info);
    info.append(h('p', {}, 'Provider requests to ', h('code', { class: 'webhook-url', text: endpoint.webhook_url }),
      ' appear here as they arrive.'));
  }

  function updateStatus() {
    status.textContent = known.size ? `${known.size} event${known.size === 1 ? '' : 's'} shown.` : 'No events yet. They appear here as they arrive.';
  }

  function setMore(cursor) {
    nextCursor = cursor;
    clear(more);
    if (nextCursor) more.append(button('Load older events', loadOlder, { dataset: { fk: 'older' } }));
  }

  async function loadOlder() {
    try {
      const page = await api('GET', `/webhook_endpoints/${seg(endpointId)}/events${query({ limit: PAGE_SIZE, cursor: nextCursor })}`);
      for (const event of page.items || []) addEvent(event, 'end', false);
      setMore(page.next_cursor);
      updateStatus();
    } catch (err) {
      showError(err);
    }
  }

  // Fetches the newest page and prepends what is not shown yet; one fetch at
  // a time, and one more if events arrived meanwhile.
  async function fetchNew() {
    if (fetching) {
      fetchAgain = true;
      return;
    }
    fetching = (async () => {
      do {
        fetchAgain = false;
        try {
          const page = await api('GET', `/webhook_endpoints/${seg(endpointId)}/events${query({ limit: PAGE_SIZE })}`);
          if (!alive) return;
          const fresh = (page.items || []).filter((event) => !known.has(event.id) || known.get(event.id).dataset.pending);
          for (const event of fresh.reverse()) addEvent(event, 'start', true);
          if (fresh.length) updateStatus();
        } catch (err) {
          showError(err);
        }
      } while (fetchAgain && alive);
    })();
    await fetching;
    fetching = null;
  }

  function addEvent(event, where, fresh) {
    const shown = known.get(event.id);
    if (shown && !shown.dataset.pending) return;
    const item = event.pending ? pendingItem(event) : eventItem(event, fresh);
    known.set(event.id, item);
    if (shown) shown.replaceWith(item);
    else if (where === 'start') list.prepend(item);
    else list.append(item);
  }

  // What the stream's message says of a new event, shown at once; the full
  // event (headers, body) replaces it when fetched.
  function pendingItem(event) {
    return h('li', { class: 'card event fresh', dataset: { id: event.id, pending: 'true' } },
      h('h2', { class: 'event-title' }, 'Received ', time(event.received_at)),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Provider event id' }), h('dd', {}, h('code', { class: 'provider-id', text: event.provider_event_id })),
        h('dt', { text: 'Event id' }), h('dd', {}, h('code', { text: event.id }))),
      h('p', { class: 'muted', text: 'Loading headers and body…' }));
  }

  function eventItem(event, fresh) {
    const titleId = `evt-${event.id}`;
    const pretty = prettyBody(event);
    const body = h('pre', { class: 'body', tabIndex: 0, text: pretty.text, attrs: { 'aria-label': 'Body' } });
    let raw = false;
    const toggle = button('Show raw body', () => {
      raw = !raw;
      body.textContent = raw ? event.body : pretty.text;
      toggle.textContent = raw ? 'Show pretty body' : 'Show raw body';
      toggle.setAttribute('aria-pressed', String(raw));
    }, { class: 'secondary small', dataset: { fk: `raw:${event.id}` }, attrs: { 'aria-pressed': 'false', 'aria-describedby': titleId } });
    const curl = button('Copy as curl', () => copyText(curlCommand(endpoint.webhook_url, event), 'curl command'),
      { class: 'secondary small', dataset: { fk: `curl:${event.id}` }, attrs: { 'aria-describedby': titleId } });
    const headers = Object.entries(event.headers || {});
    return h('li', { class: `card event${fresh ? ' fresh' : ''}`, dataset: { id: event.id } },
      h('h2', { id: titleId, class: 'event-title' }, 'Received ', time(event.received_at)),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Provider event id' }), h('dd', {}, h('code', { class: 'provider-id', text: event.provider_event_id })),
        h('dt', { text: 'Event id' }), h('dd', {}, h('code', { text: event.id })),
        h('dt', { text: 'Headers' }), h('dd', {}, headers.length
          ? h('dl', { class: 'kv small headers' }, headers.map(([name, value]) => [h('dt', { text: name }), h('dd', {}, h('code', { text: value }))]))
          : h('span', { class: 'muted', text: 'none kept' }))),
      pretty.note ? h('p', { class: 'muted', text: pretty.note }) : null,
      body,
      h('div', { class: 'actions' }, toggle, curl));
  }

  start();

  return {
    reload: () => (endpointId ? load() : undefined),
    onStream(type, data) {
      if (!endpointId || !endpoint) return;
      if (type === 'event' && data.endpoint_id === endpointId && typeof data.id === 'string' && !known.has(data.id)) {
        addEvent({ id: data.id, provider_event_id: String(data.provider_event_id ?? ''), received_at: data.received_at, pending: true }, 'start', true);
        updateStatus();
      }
      if ((type === 'event' && data.endpoint_id === endpointId) || type === 'hello') fetchNew();
      if (type === 'endpoint' && data.id === endpointId && data.change === 'deleted') {
        notify('info', 'This endpoint was deleted.');
      }
    },
    unmount() { alive = false; },
  };
}
