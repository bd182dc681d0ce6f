// Activity: received events and delivery outcomes per minute over the last
// hour, as an inline SVG drawn here (createElementNS, no library), from
// GET /webhook_activity?minutes=60, refreshed from the live stream.

import { api, query } from './api.js';
import { h, svg, clear, debounce } from './dom.js';
import { showError } from './ui.js';

const WIDTH = 760;
const HEIGHT = 260;
const PAD = { left: 40, right: 12, top: 14, bottom: 30 };
const SERIES = [
  { key: 'events', label: 'Events received', cls: 'c-events' },
  { key: 'succeeded', label: 'Delivered', cls: 'c-succeeded' },
  { key: 'failed', label: 'Failed', cls: 'c-failed' },
  { key: 'waiting', label: 'Waiting (pending, retrying, held)', cls: 'c-waiting' },
];

function hhmm(iso) {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function niceMax(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return value;
}

// The chart's numbers per minute: {start, events, succeeded, failed, waiting}.
function rows(items) {
  return items.map((item) => ({
    start: item.start,
    events: Number(item.events) || 0,
    succeeded: Number(item.deliveries?.succeeded) || 0,
    failed: Number(item.deliveries?.failed) || 0,
    waiting: Number(item.deliveries?.waiting) || 0,
  }));
}

export function drawChart(data) {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(1, ...data.map((d) => Math.max(d.events, d.succeeded + d.failed + d.waiting))));
  const slot = innerW / Math.max(1, data.length);
  const barW = Math.max(1, slot * 0.38);
  const y = (v) => PAD.top + innerH - (v / max) * innerH;
  const totals = data.reduce((t, d) => {
    for (const s of SERIES) t[s.key] += d[s.key];
    return t;
  }, { events: 0, succeeded: 0, failed: 0, waiting: 0 });
  const label = `Last ${data.length} minutes: ${totals.events} events received, ${totals.succeeded} delivered, ${totals.failed} failed, ${totals.waiting} waiting.`;

  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': label });
  chart.append(svg('title', {}, label));
  for (const tick of [0, max / 2, max]) {
    chart.append(
      svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round(tick * 10) / 10)));
  }
  data.forEach((d, i) => {
    const x = PAD.left + i * slot + (slot - 2 * barW) / 2;
    if (d.events) {
      chart.append(svg('rect', { x, y: y(d.events), width: barW, height: y(0) - y(d.events), class: 'bar c-events' },
        svg('title', {}, `${hhmm(d.start)}: ${d.events} events received`)));
    }
    let base = 0;
    for (const key of ['succeeded', 'failed', 'waiting']) {
      if (!d[key]) continue;
      const top = base + d[key];
      chart.append(svg('rect', { x: x + barW, y: y(top), width: barW, height: y(base) - y(top), class: `bar c-${key}` },
        svg('title', {}, `${hhmm(d.start)}: ${d[key]} ${key}`)));
      base = top;
    }
    if (i % 10 === 0 || i === data.length - 1) {
      chart.append(svg('text', { x: PAD.left + i * slot + slot / 2, y: HEIGHT - 10, 'text-anchor': 'middle', class: 'axis' }, hhmm(d.start)));
    }
  });
  chart.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(0), y2: y(0), class: 'baseline' }));
  return { chart, totals, label };
}

export function mountActivity(root) {
  let alive = true;
  const figure = h('figure', { class: 'panel chart-figure' });
  const table = h('details', { class: 'chart-data' });
  root.append(h('h1', { id: 'activity-title', text: 'Activity' }),
    h('p', { class: 'lead', text: 'Events received and delivery outcomes per minute, last hour. Updated live.' }),
    figure, table);

  async function load() {
    let body;
    try {
      body = await api('GET', `/webhook_activity${query({ minutes: 60 })}`);
    } catch (err) {
      showError(err);
      return;
    }
    if (!alive) return;
    const data = rows(body.items || []);
    const { chart, label } = drawChart(data);
    clear(figure);
    figure.append(chart,
      h('figcaption', {}, h('span', { class: 'summary', text: label }),
        h('ul', { class: 'legend' }, SERIES.map((s) => h('li', {}, h('span', { class: `swatch ${s.cls}`, attrs: { 'aria-hidden': 'true' } }), s.label)))));
    const wasOpen = table.open;
    clear(table);
    table.open = wasOpen;
    table.append(h('summary', { text: 'The numbers as a table' }),
      h('table', {}, h('thead', {}, h('tr', {}, ['Minute', ...SERIES.map((s) => s.label)].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, data.filter((d) => d.events || d.succeeded || d.failed || d.waiting).map((d) =>
          h('tr', {}, h('th', { scope: 'row', text: hhmm(d.start) }), SERIES.map((s) => h('td', { class: 'num', text: String(d[s.key]) })))))));
  }

  const reloadSoon = debounce(load, 300);
  // The window moves even when nothing happens.
  const timer = setInterval(load, 30000);
  load();
  return {
    reload: load,
    onStream(type) {
      if (type === 'event' || type === 'delivery' || type === 'hello') reloadSoon();
    },
    unmount() {
      alive = false;
      clearInterval(timer);
    },
  };
}
