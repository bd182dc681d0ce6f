// The project's webhook subscription: create or edit its URL, events and
// version; reveal (hidden by default), copy and rotate its secret; delete.

import { api, seg } from './api.js';
import { h, clear, field, time, keepFocus, debounce } from './dom.js';
import { notify, showError, confirmDialog, copyText, button, busy } from './ui.js';

const FALLBACK_EVENT_TYPES = [{ event_type: 'composio.trigger.message', description: 'A provider event, as a trigger message.' }];

// The subscription, or null when the project has none.
export async function loadSubscription() {
  const list = await api('GET', '/webhook_subscriptions');
  return (list.items && list.items[0]) || null;
}

export function mountSubscription(root) {
  let alive = true;
  let revealed = false;
  let eventTypes = FALLBACK_EVENT_TYPES;
  const body = h('div');
  root.append(h('h1', { id: 'subscription-title', text: 'Subscription' }),
    h('p', { class: 'lead', text: 'Every event your endpoints receive is signed and sent on to this URL of your app, with retries.' }),
    body);

  async function load() {
    let sub;
    try {
      const [types, current] = await Promise.all([
        api('GET', '/webhook_subscriptions/event_types').catch(() => null),
        loadSubscription(),
      ]);
      if (types && Array.isArray(types.items) && types.items.length) eventTypes = types.items;
      sub = current;
    } catch (err) {
      showError(err);
      return;
    }
    if (!alive) return;
    keepFocus(root, () => {
      clear(body);
      if (sub) body.append(details(sub));
      body.append(form(sub));
    });
  }

  function details(sub) {
    const secretText = h('code', { class: 'secret', text: revealed ? sub.secret : '••••••••••••••••' });
    const reveal = button(revealed ? 'Hide secret' : 'Reveal secret', () => {
      revealed = !revealed;
      secretText.textContent = revealed ? sub.secret : '••••••••••••••••';
      reveal.textContent = revealed ? 'Hide secret' : 'Reveal secret';
      reveal.setAttribute('aria-pressed', String(revealed));
    }, { class: 'secondary small', dataset: { fk: 'reveal' }, attrs: { 'aria-pressed': String(revealed) } });
    const copy = button('Copy secret', () => copyText(sub.secret, 'secret'), { class: 'secondary small', dataset: { fk: 'copy-secret' } });
    const rotate = button('Rotate secret', async () => {
      const yes = await confirmDialog('Rotate the secret?',
        'A new secret signs every attempt from now on; the current one stops validating at once. Update your app with the new one.',
        'Rotate secret');
      if (!yes) return;
      await busy(rotate, async () => {
        await api('POST', `/webhook_subscriptions/${seg(sub.id)}/rotate_secret`, {});
        notify('ok', 'Secret rotated. Reveal it to copy the new one into your app.');
        await load();
      });
    }, { class: 'secondary small', dataset: { fk: 'rotate' } });
    const enable = sub.status === 'disabled'
      ? button('Enable again', () => busy(enable, async () => {
        await api('PATCH', `/webhook_subscriptions/${seg(sub.id)}`, { status: 'enabled' });
        notify('ok', 'Subscription enabled. Held deliveries stay held until you recover them.');
        await load();
      }), { class: 'small', dataset: { fk: 'enable' } })
      : null;
    const remove = button('Delete subscription', async () => {
      const yes = await confirmDialog('Delete the subscription?',
        'Nothing more is sent to your app; deliveries not made yet are cancelled.', 'Delete subscription');
      if (!yes) return;
      await busy(remove, async () => {
        await api('DELETE', `/webhook_subscriptions/${seg(sub.id)}`);
        notify('ok', 'Subscription deleted.');
        await load();
      });
    }, { class: 'danger small', dataset: { fk: 'delete-sub' } });
    return h('section', { class: 'panel', attrs: { 'aria-labelledby': 'sub-current' } },
      h('h2', { id: 'sub-current', text: 'Current subscription' }),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Id' }), h('dd', {}, h('code', { text: sub.id })),
        h('dt', { text: 'URL' }), h('dd', {}, h('code', { class: 'sub-url', text: sub.webhook_url })),
        h('dt', { text: 'Status' }), h('dd', {}, h('span', { class: `badge ${sub.status === 'enabled' ? 'ok' : 'bad'}`, text: sub.status }), ' ', enable),
        h('dt', { text: 'Version' }), h('dd', { text: sub.version }),
        h('dt', { text: 'Events' }), h('dd', { text: (sub.enabled_events || []).join(', ') }),
        h('dt', { text: 'Secret' }), h('dd', { class: 'secret-row' }, secretText, ' ', reveal, ' ', copy, ' ', rotate),
        h('dt', { text: 'Updated' }), h('dd', {}, time(sub.updated_at))),
      h('div', { class: 'actions' }, h('a', { class: 'button secondary', href: '#/deliveries', text: 'See deliveries' }), remove));
  }

  function form(sub) {
    const url = h('input', { id: 'sub-url', name: 'webhook_url', type: 'url', required: true, maxLength: 2048,
      placeholder: 'http://localhost:3000/webhooks/composio', value: sub ? sub.webhook_url : '', spellcheck: false });
    const enabled = new Set(sub ? sub.enabled_events : ['composio.trigger.message']);
    const boxes = eventTypes.map((type) => {
      const box = h('input', { type: 'checkbox', name: 'enabled_events', value: type.event_type, checked: enabled.has(type.event_type), id: `evt-type-${type.event_type.replace(/[^a-z0-9]/gi, '-')}` });
      return h('div', { class: 'check' }, box, h('label', { htmlFor: box.id }, type.event_type,
        type.description ? h('span', { class: 'muted', text: ` — ${type.description}` }) : null));
    });
    const version = h('select', { id: 'sub-version', name: 'version' },
      ['V3', 'V2', 'V1'].map((v) => h('option', { value: v, text: v })));
    version.value = sub ? sub.version : 'V3';
    const submit = h('button', { type: 'submit', text: sub ? 'Save changes' : 'Create subscription', dataset: { fk: 'sub-submit' } });
    const formEl = h('form', { class: 'panel', attrs: { 'aria-labelledby': 'sub-form-title' } },
      h('h2', { id: 'sub-form-title', text: sub ? 'Change it' : 'Create the subscription' }),
      field('Your app\'s URL', url, 'An http or https URL; deliveries are POSTed to it.'),
      h('fieldset', {}, h('legend', { text: 'Events to send' }), boxes),
      field('Payload version', version, 'V3 is the current trigger message; V1 and V2 are the legacy shapes.'),
      h('div', { class: 'actions' }, submit));
    formEl.addEventListener('submit', (event) => {
      event.preventDefault();
      const events = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => b.value);
      const payload = { webhook_url: url.value.trim(), enabled_events: events, version: version.value };
      busy(submit, async () => {
        if (sub) {
          await api('PATCH', `/webhook_subscriptions/${seg(sub.id)}`, payload);
          notify('ok', 'Subscription saved.');
        } else {
          await api('POST', '/webhook_subscriptions', payload);
          notify('ok', 'Subscription created. Reveal the secret to verify deliveries in your app.');
        }
        await load();
      });
    });
    return formEl;
  }

  const reloadSoon = debounce(load, 150);
  load();
  return {
    reload: load,
    onStream(type) {
      if (type === 'subscription') reloadSoon();
    },
    unmount() { alive = false; },
  };
}
