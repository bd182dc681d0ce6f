// The dashboard's entry point: the key form, the hash router (#/endpoints,
// #/events/<endpoint id>, #/subscription, #/deliveries, #/activity; the hash
// never holds the key) and the live stream feeding the open view.

import { getKey, setKey, onUnauthorized } from './api.js';
import { clear, h } from './dom.js';
import { LiveStream } from './stream.js';
import { clearMessages, clearNotices, renderError } from './ui.js';
import { mountEndpoints } from './endpoints.js';
import { mountEvents } from './events.js';
import { mountSubscription } from './subscription.js';
import { mountDeliveries } from './deliveries.js';
import { mountActivity } from './activity.js';

const VIEWS = {
  endpoints: mountEndpoints,
  events: mountEvents,
  subscription: mountSubscription,
  deliveries: mountDeliveries,
  activity: mountActivity,
};

const el = {
  nav: document.getElementById('nav'),
  live: document.getElementById('live'),
  liveText: document.getElementById('live-text'),
  forget: document.getElementById('forget'),
  keyView: document.getElementById('key-view'),
  keyForm: document.getElementById('key-form'),
  keyInput: document.getElementById('key-input'),
  view: document.getElementById('view'),
};

let current = null; // {name, param, view}
const stream = new LiveStream(onStreamMessage, onStreamState);

function parseHash() {
  const match = /^#\/([a-z]+)(?:\/([A-Za-z0-9_-]+))?\/?$/.exec(location.hash);
  if (match && VIEWS[match[1]]) return { name: match[1], param: match[2] || '' };
  return { name: 'endpoints', param: '' };
}

function route(focusHeading) {
  if (!getKey()) return showKeyForm();
  const { name, param } = parseHash();
  if (current && current.view.unmount) current.view.unmount();
  clear(el.view);
  const root = h('section', { class: 'view', attrs: { 'aria-labelledby': `${name}-title` } });
  el.view.append(root);
  current = { name, param, view: VIEWS[name](root, param) || {} };
  for (const link of el.nav.querySelectorAll('a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · webhooks-server`;
  if (focusHeading) {
    const heading = root.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }
}

function onStreamMessage(message) {
  if (!current) return;
  if (message.type === 'reset') {
    if (current.view.reload) current.view.reload();
    return;
  }
  // Views also take 'hello' (each connection's first message) to fetch what
  // changed between their first load and the stream's start.
  if (current.view.onStream && message.data) current.view.onStream(message.type, message.data);
}

const STATE_TEXT = {
  connecting: 'Connecting live updates…',
  open: 'Live',
  waiting: 'Live updates paused, retrying',
  stopped: 'Live updates off',
};

function onStreamState(state, detail) {
  el.live.dataset.state = state;
  el.liveText.textContent = STATE_TEXT[state] + (detail && state !== 'open' ? ` (${detail})` : '');
}

function showKeyForm(message) {
  stream.stop();
  if (current && current.view.unmount) current.view.unmount();
  current = null;
  clear(el.view);
  el.nav.hidden = true;
  el.live.hidden = true;
  el.forget.hidden = true;
  el.keyView.hidden = false;
  el.keyInput.value = '';
  if (message) renderError(message);
  el.keyInput.focus();
}

function signedIn() {
  el.keyView.hidden = true;
  el.nav.hidden = false;
  el.live.hidden = false;
  el.forget.hidden = false;
  stream.start();
  route(true);
}

el.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = el.keyInput.value.trim();
  if (!key) return;
  setKey(key);
  el.keyInput.value = '';
  clearMessages();
  signedIn();
});

el.forget.addEventListener('click', () => {
  setKey('');
  clearMessages();
  showKeyForm();
});

onUnauthorized((err) => {
  if (!getKey()) return; // already back at the key form
  setKey('');
  showKeyForm(err);
});

window.addEventListener('hashchange', () => {
  clearNotices();
  route(true);
});

if (getKey()) signedIn();
else showKeyForm();
