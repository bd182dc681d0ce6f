// Endpoints: create one (toolkit from the catalog), the list (paged) with
// webhook_url copy buttons, verified state and masked setup data, the setup
// form generated from the toolkit's schema (PATCH), test events, delete.

import { api, request, query, seg, normalizeFields } from './api.js';
import { h, clear, field, time, keepFocus, debounce } from './dom.js';
import { notify, showError, openDialog, confirmDialog, copyText, button, busy } from './ui.js';

const PAGE_SIZE = 20;

let catalogPromise = null;
// The toolkit catalog ({slug, test_event, setup_fields}), fetched once.
export function loadCatalog() {
  if (!catalogPromise) {
    catalogPromise = api('GET', '/webhook_toolkits').then((body) => body.items || []);
    catalogPromise.catch(() => { catalogPromise = null; });
  }
  return catalogPromise;
}

export function mountEndpoints(root) {
  let cursors = [null]; // cursor of each page seen; the last is the current one
  let catalog = [];
  let alive = true;

  const toolkitSelect = h('select', { id: 'new-toolkit', name: 'toolkit_slug', required: true });
  const clientInput = h('input', { id: 'new-client-id', name: 'client_id', type: 'text', required: true,
    maxLength: 256, autocomplete: 'off', spellcheck: false });
  const createButton = h('button', { type: 'submit', text: 'Create endpoint' });
  const createForm = h('form', { class: 'panel inline-form', attrs: { 'aria-labelledby': 'create-title' } },
    h('h2', { id: 'create-title', text: 'New endpoint' }),
    h('div', { class: 'row' },
      field('Toolkit', toolkitSelect),
      field('Client id', clientInput, 'Your name for this app; the same toolkit and client id always give the same endpoint.'),
      h('div', { class: 'actions' }, createButton)));
  const list = h('ul', { class: 'cards', attrs: { 'aria-labelledby': 'list-title' } });
  const pager = h('div', { class: 'actions pager' });
  const status = h('p', { class: 'muted', attrs: { role: 'status' } });

  root.append(
    h('h1', { id: 'endpoints-title', text: 'Endpoints' }),
    createForm,
    h('h2', { id: 'list-title', text: 'Your endpoints' }),
    status, list, pager);

  createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(createButton, async () => {
      const { status: code, body } = await request('POST', '/webhook_endpoints', {
        toolkit_slug: toolkitSelect.value.trim(),
        client_id: clientInput.value,
      });
      notify('ok', code === 201
        ? `Endpoint ${body.client_id} created (${body.id}).`
        : `Endpoint ${body.client_id} already existed (${body.id}); nothing changed.`);
      clientInput.value = '';
      cursors = [null];
      await load();
    });
  });

  async function loadToolkits() {
    try {
      catalog = await loadCatalog();
      clear(toolkitSelect);
      for (const toolkit of catalog) toolkitSelect.append(h('option', { value: toolkit.slug, text: toolkit.slug }));
      // The catalog is sorted by name; Slack is what most people try first.
      if (catalog.some((t) => t.slug === 'slack')) toolkitSelect.value = 'slack';
    } catch (err) {
      // Without the catalog route, offer the built-in toolkits.
      showError(err);
      clear(toolkitSelect);
      for (const slug of ['discord', 'github', 'notion', 'slack', 'slackbot', 'stripe']) toolkitSelect.append(h('option', { value: slug, text: slug }));
    }
  }

  async function load() {
    const cursor = cursors[cursors.length - 1];
    let page;
    try {
      page = await api('GET', `/webhook_endpoints${query({ limit: PAGE_SIZE, cursor })}`);
    } catch (err) {
      showError(err);
      return;
    }
    // The list has ids only; each card needs the whole endpoint. On a first
    // load the list shows at once, and the cards fill in after.
    if (!list.firstChild && page.items && page.items.length) {
      for (const item of page.items) list.append(stubCard(item));
    }
    const endpoints = await Promise.all((page.items || []).map((item) =>
      api('GET', `/webhook_endpoints/${seg(item.id)}`).catch(() => null)));
    if (!alive) return;
    keepFocus(root, () => {
      clear(list);
      for (const endpoint of endpoints) if (endpoint) list.append(card(endpoint));
      status.textContent = endpoints.length
        ? `Page ${cursors.length}: ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}.`
        : 'No endpoints yet: create one above.';
      clear(pager);
      if (cursors.length > 1) {
        pager.append(button('Previous page', () => { cursors.pop(); load(); }, { dataset: { fk: 'prev' } }));
      }
      if (page.next_cursor) {
        pager.append(button('Next page', () => { cursors.push(page.next_cursor); load(); }, { dataset: { fk: 'next' } }));
      }
    });
  }

  // A card from a list item alone, until the whole endpoint arrives.
  function stubCard(item) {
    return h('li', { class: 'card endpoint', dataset: { id: item.id } },
      h('h3', {}, item.client_id, ' ', h('span', { class: 'badge', text: item.toolkit_slug })),
      h('dl', { class: 'kv' }, h('dt', { text: 'Id' }), h('dd', {}, h('code', { text: item.id }))));
  }

  function card(endpoint) {
    const titleId = `ep-${endpoint.id}`;
    const fk = (name) => ({ fk: `${name}:${endpoint.id}` });
    const toolkit = catalog.find((t) => t.slug === endpoint.toolkit_slug);
    const data = endpoint.data && typeof endpoint.data === 'object' ? endpoint.data : null;
    const setup = data && Object.keys(data).length
      ? h('dl', { class: 'kv small' }, Object.entries(data).map(([name, value]) => [
        h('dt', { text: name }), h('dd', {}, h('code', { text: String(value) }))]))
      : h('p', { class: 'muted', text: 'No setup data stored yet.' });
    const describe = { 'aria-describedby': titleId };
    const actions = [
      button('Edit setup', () => editSetup(endpoint), { dataset: fk('edit'), attrs: describe }),
      h('a', { class: 'button secondary', href: `#/events/${endpoint.id}`, text: 'Events', attrs: describe }),
    ];
    if (!toolkit || toolkit.test_event !== false) {
      const testButton = button('Send test event', () => busy(testButton, async () => {
        const result = await api('POST', `/webhook_endpoints/${seg(endpoint.id)}/test_event`, {});
        notify('ok', `Test event accepted: ${result.event_id} (provider id ${result.provider_event_id}).`);
      }), { class: 'secondary', dataset: fk('test'), attrs: describe });
      actions.push(testButton);
    }
    actions.push(button('Delete', () => remove(endpoint), { class: 'danger', dataset: fk('delete'), attrs: describe }));

    const copy = button('Copy URL', () => copyText(endpoint.webhook_url, 'webhook URL'),
      { class: 'small secondary', dataset: fk('copy'), attrs: { 'aria-label': `Copy webhook URL of ${endpoint.client_id}` } });
    return h('li', { class: 'card endpoint', dataset: { id: endpoint.id } },
      h('h3', { id: titleId }, endpoint.client_id, ' ', h('span', { class: 'badge', text: endpoint.toolkit_slug })),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Id' }), h('dd', {}, h('code', { text: endpoint.id })),
        h('dt', { text: 'Webhook URL' }), h('dd', { class: 'url' }, h('code', { class: 'webhook-url', text: endpoint.webhook_url }), ' ', copy),
        h('dt', { text: 'Verified' }), h('dd', { class: 'verified' }, endpoint.verified_at
          ? [h('span', { class: 'badge ok', text: 'Verified' }), ' ', time(endpoint.verified_at)]
          : h('span', { class: 'badge', text: 'Not verified yet' })),
        h('dt', { text: 'Created' }), h('dd', {}, time(endpoint.created_at)),
        h('dt', { text: 'Setup data' }), h('dd', { class: 'setup' }, setup)),
      h('div', { class: 'actions' }, actions));
  }

  async function editSetup(endpoint) {
    let fields;
    try {
      const schema = await api('GET', `/webhook_endpoints/schema${query({ toolkit_slug: endpoint.toolkit_slug })}`);
      fields = normalizeFields(schema.setup_fields);
    } catch (err) {
      showError(err);
      return;
    }
    const current = endpoint.data || {};
    const inputs = [];
    const rows = fields.map((f) => {
      const stored = current[f.name];
      const input = h('input', {
        name: f.name,
        type: f.is_secret ? 'password' : 'text',
        autocomplete: f.is_secret ? 'new-password' : 'off',
        spellcheck: false,
        maxLength: 4096,
      });
      if (!f.is_secret && stored !== undefined) input.value = stored;
      if (f.is_secret) input.placeholder = stored ? `stored: ${stored}` : 'not set';
      inputs.push({ f, input, stored });
      const label = `${f.display_name || f.name}${f.is_required ? ' (required)' : ''}`;
      const hint = [f.description, f.is_secret ? (stored ? `Stored as ${stored}; leave empty to keep it.` : 'Not set yet.') : '']
        .filter(Boolean).join(' ');
      return field(label, input, hint || undefined);
    });
    // The submit button sits in the dialog's row of actions, tied to the form
    // by its form attribute (Enter in a field still submits).
    const formId = `setup-${endpoint.id}`;
    const save = h('button', { type: 'submit', text: 'Save setup', attrs: { form: formId } });
    const form = h('form', { class: 'setup-form', id: formId },
      rows.length ? rows : h('p', { text: 'This toolkit has no setup fields: its secret comes from the provider\'s handshake.' }));
    const dialog = openDialog(`Setup of ${endpoint.client_id} (${endpoint.toolkit_slug})`, [form], rows.length ? [save] : []);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = {};
      for (const { f, input, stored } of inputs) {
        if (input.value === '') continue;
        if (!f.is_secret && input.value === stored) continue;
        data[f.name] = input.value;
      }
      if (!Object.keys(data).length) {
        notify('info', 'Nothing to change: every field is empty or as stored.', [], dialog.messages);
        return;
      }
      busy(save, async () => {
        await api('PATCH', `/webhook_endpoints/${seg(endpoint.id)}`, { data });
        dialog.close();
        notify('ok', `Setup of ${endpoint.client_id} saved.`);
        await load();
      }, dialog.messages);
    });
  }

  async function remove(endpoint) {
    const yes = await confirmDialog(`Delete ${endpoint.client_id}?`,
      `The endpoint ${endpoint.id} and its events are deleted; its webhook URL then answers 404 to the provider.`,
      'Delete endpoint');
    if (!yes) return;
    try {
      await api('DELETE', `/webhook_endpoints/${seg(endpoint.id)}`);
      notify('ok', `Endpoint ${endpoint.client_id} deleted.`);
      await load();
    } catch (err) {
      showError(err);
    }
  }

  const reloadSoon = debounce(load, 150);
  // The catalog only fills the create form: the list does not wait for it.
  loadToolkits();
  load();

  return {
    reload: load,
    onStream(type) {
      if (type === 'endpoint' || type === 'hello') reloadSoon();
    },
    unmount() { alive = false; },
  };
}
