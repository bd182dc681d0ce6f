// Deliveries of the project's subscription: filter by status, each with its
// attempts (time, status code, error class, duration, response excerpt),
// Resend, and Recover since… for failed and held ones. Live.

import { api, query, seg } from './api.js';
import { h, clear, field, time, keepFocus, debounce } from './dom.js';
import { notify, showError, button, busy } from './ui.js';
import { loadSubscription } from './subscription.js';

const PAGE_SIZE = 50;
const STATUSES = ['pending', 'in_flight', 'succeeded', 'retrying', 'failed', 'held', 'cancelled'];
const EXCERPT_CHARS = 2000;

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function statusBadge(status) {
  const tone = { succeeded: 'ok', failed: 'bad', retrying: 'warn', held: 'warn', cancelled: '' }[status] ?? '';
  return h('span', { class: `badge ${tone} status`, text: status });
}

export function mountDeliveries(root) {
  let alive = true;
  let sub = null;
  let cursors = [null];
  const expanded = new Set();
  const detailCache = new Map();
  // Which attempts' response panels are open ("deliveryId:attempt"), taken from the page just before
  // each re-render: a live update or a filter change must not snap shut a panel the reader opened.
  const openResponses = new Set();

  const filter = h('select', { id: 'dlv-filter', name: 'status' },
    h('option', { value: '', text: 'All' }), STATUSES.map((s) => h('option', { value: s, text: s })));
  const since = h('input', { id: 'recover-since', name: 'since', type: 'datetime-local', required: true,
    value: localInputValue(new Date(Date.now() - 3600 * 1000)) });
  const until = h('input', { id: 'recover-until', name: 'until', type: 'datetime-local' });
  const recoverButton = h('button', { type: 'submit', text: 'Recover' });
  const recoverForm = h('form', { class: 'panel', attrs: { 'aria-labelledby': 'recover-title' } },
    h('h2', { id: 'recover-title', text: 'Recover since…' }),
    h('p', { class: 'muted', text: 'Every failed or held delivery created in the window gets one more attempt now.' }),
    h('div', { class: 'row' }, field('Since', since), field('Until (optional; default now)', until),
      h('div', { class: 'actions' }, recoverButton)));
  const subInfo = h('div');
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'actions pager' });
  const status = h('p', { class: 'muted', attrs: { role: 'status' } });
  const controls = h('div', { class: 'panel row' }, field('Status', filter));
  root.append(h('h1', { id: 'deliveries-title', text: 'Deliveries' }), subInfo);

  filter.addEventListener('change', () => {
    cursors = [null];
    load();
  });
  recoverForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { since: new Date(since.value).toISOString() };
    if (until.value) body.until = new Date(until.value).toISOString();
    busy(recoverButton, async () => {
      const result = await api('POST', `/webhook_subscriptions/${seg(sub.id)}/recover`, body);
      notify('ok', `${result.scheduled} deliver${result.scheduled === 1 ? 'y' : 'ies'} scheduled for one more attempt.`);
      await load();
    });
  });

  async function start() {
    try {
      sub = await loadSubscription();
    } catch (err) {
      showError(err);
      return;
    }
    if (!alive) return;
    clear(subInfo);
    if (!sub) {
      subInfo.append(h('p', {}, 'No subscription yet, so nothing is delivered. ',
        h('a', { href: '#/subscription', text: 'Create the subscription' }), '.'));
      return;
    }
    subInfo.append(h('p', { class: 'lead' }, 'To ', h('code', { text: sub.webhook_url }), ' ',
      h('span', { class: `badge ${sub.status === 'enabled' ? 'ok' : 'bad'}`, text: sub.status })));
    root.append(controls, recoverForm, status, table, pager);
    await load();
  }

  async function load() {
    if (!sub) return;
    const cursor = cursors[cursors.length - 1];
    let page;
    try {
      page = await api('GET', `/webhook_subscriptions/${seg(sub.id)}/deliveries${query({ status: filter.value, limit: PAGE_SIZE, cursor })}`);
      await Promise.all([...expanded].map((id) => loadDetail(id)));
    } catch (err) {
      showError(err);
      return;
    }
    if (!alive) return;
    keepFocus(root, () => render(page));
  }

  async function loadDetail(id) {
    try {
      detailCache.set(id, await api('GET', `/webhook_subscriptions/${seg(sub.id)}/deliveries/${seg(id)}`));
    } catch (err) {
      expanded.delete(id);
      showError(err);
    }
  }

  function render(page) {
    const items = page.items || [];
    status.textContent = items.length ? `${items.length} deliver${items.length === 1 ? 'y' : 'ies'} on this page.` : 'No deliveries match.';
    for (const panel of table.querySelectorAll('details.response')) {
      if (panel.open) openResponses.add(panel.dataset.key);
      else openResponses.delete(panel.dataset.key);
    }
    clear(table);
    clear(pager);
    if (items.length) {
      const tbody = h('tbody');
      for (const delivery of items) {
        tbody.append(row(delivery));
        if (expanded.has(delivery.id) && detailCache.has(delivery.id)) tbody.append(attemptsRow(detailCache.get(delivery.id)));
      }
      table.append(h('table', { class: 'deliveries' },
        h('caption', { text: 'Deliveries, newest first' }),
        h('thead', {}, h('tr', {}, ['Created', 'Status', 'Attempts', 'Last code', 'Last error', 'Event', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
        tbody));
    }
    if (cursors.length > 1) pager.append(button('Newer deliveries', () => { cursors.pop(); load(); }, { dataset: { fk: 'newer' } }));
    if (page.next_cursor) pager.append(button('Older deliveries', () => { cursors.push(page.next_cursor); load(); }, { dataset: { fk: 'older' } }));
  }

  function row(delivery) {
    const open = expanded.has(delivery.id);
    const labelId = `dlv-${delivery.id}`;
    const toggle = button(open ? 'Hide attempts' : 'Show attempts', async () => {
      if (expanded.has(delivery.id)) {
        expanded.delete(delivery.id);
      } else {
        expanded.add(delivery.id);
      }
      await load();
    }, { class: 'secondary small', dataset: { fk: `attempts:${delivery.id}` },
      attrs: { 'aria-expanded': String(open), 'aria-controls': open ? `att-${delivery.id}` : null, 'aria-describedby': labelId } });
    const resend = button('Resend', () => busy(resend, async () => {
      const result = await api('POST', `/webhook_subscriptions/${seg(sub.id)}/deliveries/${seg(delivery.id)}/resend`, {});
      notify('ok', `Attempt ${result.attempt} of ${delivery.id} scheduled.`);
      expanded.add(delivery.id);
      await load();
    }), { class: 'small', dataset: { fk: `resend:${delivery.id}` }, attrs: { 'aria-describedby': labelId } });
    return h('tr', { class: 'delivery', dataset: { id: delivery.id, status: delivery.status } },
      h('td', { id: labelId }, time(delivery.created_at), h('span', { class: 'visually-hidden', text: ` delivery ${delivery.id}` })),
      h('td', {}, statusBadge(delivery.status)),
      h('td', { class: 'num', text: String(delivery.attempts) }),
      h('td', { class: 'num', text: delivery.last_status_code == null ? '—' : String(delivery.last_status_code) }),
      h('td', { text: delivery.last_error || '—' }),
      h('td', {}, h('a', { href: `#/events/${delivery.endpoint_id}`, text: delivery.event_id, attrs: { 'aria-label': `Event ${delivery.event_id} (events of its endpoint)` } })),
      h('td', { class: 'row-actions' }, toggle, ' ', resend));
  }

  function attemptsRow(detail) {
    const attempts = detail.attempt_log || [];
    const content = attempts.length
      ? h('table', { class: 'attempts' },
        h('caption', { text: `Attempts of ${detail.id}` }),
        h('thead', {}, h('tr', {}, ['#', 'Started', 'Status code', 'Error class', 'Duration', 'Response'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, attempts.map((a) => h('tr', { class: 'attempt', dataset: { attempt: String(a.attempt) } },
          h('td', { class: 'num', text: String(a.attempt) }),
          h('td', {}, time(a.started_at)),
          h('td', { class: 'num status-code', text: a.status_code == null ? '—' : String(a.status_code) }),
          h('td', { text: a.error_class || '—' }),
          h('td', { class: 'num', text: `${a.duration_ms} ms` }),
          h('td', {}, responseDetails(detail.id, a))))))
      : h('p', { class: 'muted', text: 'No attempt made yet.' });
    return h('tr', { class: 'attempts-row', id: `att-${detail.id}` }, h('td', { colSpan: 7 }, content));
  }

  function responseDetails(deliveryId, attempt) {
    const key = `${deliveryId}:${attempt.attempt}`;
    const text = attempt.response_body || '';
    const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
    const headers = Object.entries(attempt.response_headers || {}).map(([n, v]) => `${n}: ${v}`).join('\n');
    const sent = Object.entries(attempt.request_headers || {}).map(([n, v]) => `${n}: ${v}`).join('\n');
    return h('details', { class: 'response', dataset: { key }, attrs: { open: openResponses.has(key) } },
      h('summary', {}, `Response (${text ? `${text.length} characters` : 'empty'})`),
      h('p', { class: 'muted', text: 'Response headers' }), h('pre', { text: headers || '(none)' }),
      h('p', { class: 'muted', text: 'Response body (excerpt)' }), h('pre', { text: excerpt || '(empty)' }),
      h('p', { class: 'muted', text: 'Request headers sent' }), h('pre', { text: sent || '(none)' }));
  }

  const reloadSoon = debounce(load, 100);
  start();
  return {
    reload: () => (sub ? load() : start()),
    onStream(type, data) {
      if ((type === 'delivery' && data.subscription_id === sub?.id) || (type === 'hello' && sub)) reloadSoon();
      if (type === 'subscription') {
        clear(subInfo);
        controls.remove();
        recoverForm.remove();
        status.remove();
        table.remove();
        pager.remove();
        start();
      }
    },
    unmount() { alive = false; },
  };
}
