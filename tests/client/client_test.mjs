// The official npm client, @composio/client, unchanged, against the real
// webhooks-server binary (WEBHOOKS_SERVER_BIN, set by CTest). If these fail,
// SDK users would see it: this is the drop-in contract.

import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import Composio, {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  NotFoundError,
} from '@composio/client';

import { serverBin, startServer, stopServer } from './server.mjs';

const randomKey = () => `test-${randomBytes(12).toString('hex')}`;

describe('@composio/client in local mode', () => {
  let server;
  before(async () => {
    assert.ok(serverBin, 'WEBHOOKS_SERVER_BIN must name the built server');
    server = await startServer([]);
  });
  after(() => stopServer(server));

  test('create twice returns the same endpoint, 201 then 200', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const body = { toolkit_slug: 'slack', client_id: 'client-compat-1' };

    const first = await client.webhookEndpoints.create(body).withResponse();
    assert.equal(first.response.status, 201);
    const endpoint = first.data;
    assert.match(endpoint.id, /^we_[A-Za-z0-9_-]{12}$/);
    assert.equal(endpoint.toolkit_slug, 'slack');
    assert.equal(endpoint.client_id, 'client-compat-1');
    assert.equal(
      endpoint.webhook_url,
      `${server.baseURL.replace('127.0.0.1', 'localhost')}/api/v3.1/webhook_ingress/slack/${endpoint.id}/trigger_event`,
    );
    assert.equal(endpoint.data, null);
    assert.match(endpoint.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const second = await client.webhookEndpoints.create(body).withResponse();
    assert.equal(second.response.status, 200);
    assert.deepEqual(second.data, endpoint);

    // The plain call (what most SDK users write) resolves to the same object.
    assert.deepEqual(await client.webhookEndpoints.create(body), endpoint);
  });

  test('list, retrieve, update, replace round-trip through the client', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const slack = await client.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'app-1' });
    const notion = await client.webhookEndpoints.create({ toolkit_slug: 'notion', client_id: 'app-2' });

    const all = await client.webhookEndpoints.list();
    assert.deepEqual(
      all.items.map((item) => item.id),
      [slack.id, notion.id],
    );
    assert.deepEqual(all.items[0], { id: slack.id, toolkit_slug: 'slack', client_id: 'app-1' });
    const onlySlack = await client.webhookEndpoints.list({ toolkit_slug: 'slack' });
    assert.deepEqual(onlySlack.items.map((item) => item.id), [slack.id]);

    assert.deepEqual(await client.webhookEndpoints.retrieve(slack.id), slack);

    const signingSecret = 'f00dfeedf00dfeedf00dfeedf00dfeed';
    const patched = await client.webhookEndpoints.update(slack.id, {
      data: { webhook_signing_secret: signingSecret },
    });
    assert.equal(patched.id, slack.id);
    assert.deepEqual(patched.data, { webhook_signing_secret: 'f00d...' });

    const replaced = await client.webhookEndpoints.replace(slack.id, {
      data: { webhook_signing_secret: 'beefbeefbeefbeefbeef', app_token: 'xapp-1' },
    });
    assert.deepEqual(replaced.data, { app_token: 'REDACTED', webhook_signing_secret: 'beef...' });
    const read = await client.webhookEndpoints.retrieve(slack.id);
    assert.deepEqual(read.data, replaced.data);
    assert.ok(!JSON.stringify(read).includes('beefbeefbeef'), 'a secret came back unmasked');
  });

  test('a missing endpoint raises NotFoundError, another project\'s too', async () => {
    const owner = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const stranger = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const endpoint = await owner.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'mine' });
    for (const call of [
      () => owner.webhookEndpoints.retrieve('we_000000000000'),
      () => stranger.webhookEndpoints.retrieve(endpoint.id),
      () => stranger.webhookEndpoints.update(endpoint.id, { data: {} }),
      () => stranger.webhookEndpoints.replace(endpoint.id, { data: {} }),
    ]) {
      await assert.rejects(call(), (error) => {
        assert.ok(error instanceof NotFoundError, `got ${error?.constructor?.name}`);
        assert.equal(error.error.error.slug, 'WebhookEndpoint_NotFound');
        return true;
      });
    }
    assert.deepEqual((await stranger.webhookEndpoints.list()).items, []);
  });

  test('a bad update raises BadRequestError and changes nothing', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const endpoint = await client.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'strict' });
    await assert.rejects(
      client.webhookEndpoints.update(endpoint.id, { data: { no_such_field: 'x' } }),
      (error) => {
        assert.ok(error instanceof BadRequestError, `got ${error?.constructor?.name}`);
        assert.match(error.error.error.errors[0], /webhook_signing_secret/);
        return true;
      },
    );
    assert.deepEqual(await client.webhookEndpoints.retrieve(endpoint.id), endpoint);
  });

  test('two keys are two projects', async () => {
    const body = { toolkit_slug: 'notion', client_id: 'shared-client' };
    const a = await new Composio({ apiKey: randomKey(), baseURL: server.baseURL })
      .webhookEndpoints.create(body);
    const b = await new Composio({ apiKey: randomKey(), baseURL: server.baseURL })
      .webhookEndpoints.create(body);
    assert.notEqual(a.id, b.id);
  });

  test('an invalid body raises BadRequestError with the error envelope', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    await assert.rejects(
      client.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: '' }),
      (error) => {
        assert.ok(error instanceof BadRequestError, `got ${error?.constructor?.name}`);
        assert.equal(error.status, 400);
        assert.equal(error.error.error.slug, 'WebhookEndpoint_ValidationError');
        assert.equal(error.error.error.request_id, error.headers.get('x-request-id'));
        return true;
      },
    );
  });

  test('an unknown toolkit raises NotFoundError', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    await assert.rejects(
      client.webhookEndpoints.create({ toolkit_slug: 'no-such-toolkit', client_id: 'c' }),
      (error) => {
        assert.ok(error instanceof NotFoundError, `got ${error?.constructor?.name}`);
        assert.equal(error.error.error.slug, 'Toolkit_NotFound');
        return true;
      },
    );
  });
});

describe('@composio/client webhookSubscriptions (issue 14)', () => {
  let server;
  before(async () => {
    server = await startServer([]);
  });
  after(() => stopServer(server));

  test('create, list, retrieve, update, rotateSecret, listEventTypes, delete', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const created = await client.webhookSubscriptions
      .create({ webhook_url: 'http://localhost:3000/hooks', enabled_events: ['composio.trigger.message'] })
      .withResponse();
    assert.equal(created.response.status, 201);
    const subscription = created.data;
    assert.match(subscription.id, /^whs_[A-Za-z0-9_-]{12}$/);
    assert.equal(subscription.webhook_url, 'http://localhost:3000/hooks');
    assert.equal(subscription.version, 'V3');
    assert.deepEqual(subscription.enabled_events, ['composio.trigger.message']);
    assert.ok(subscription.secret.length >= 32);
    assert.equal(subscription.status, 'enabled');
    assert.match(subscription.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const list = await client.webhookSubscriptions.list();
    assert.deepEqual(list, {
      items: [subscription], next_cursor: null, total_pages: 1, current_page: 1, total_items: 1,
    });
    assert.deepEqual(await client.webhookSubscriptions.list({ limit: 50 }), list);
    assert.deepEqual(await client.webhookSubscriptions.retrieve(subscription.id), subscription);

    const updated = await client.webhookSubscriptions.update(subscription.id, {
      webhook_url: 'https://app.example.com/composio',
      version: 'V1',
      enabled_events: ['composio.trigger.message', 'composio.trigger.disabled'],
    });
    assert.equal(updated.id, subscription.id);
    assert.equal(updated.webhook_url, 'https://app.example.com/composio');
    assert.equal(updated.version, 'V1');
    assert.deepEqual(updated.enabled_events, ['composio.trigger.message', 'composio.trigger.disabled']);
    assert.equal(updated.secret, subscription.secret);
    // update() with no body sends {}: a 200 that only re-enables.
    assert.equal((await client.webhookSubscriptions.update(subscription.id)).status, 'enabled');

    const rotated = await client.webhookSubscriptions.rotateSecret(subscription.id);
    assert.deepEqual(Object.keys(rotated).sort(), ['id', 'secret']);
    assert.equal(rotated.id, subscription.id);
    assert.notEqual(rotated.secret, subscription.secret);
    assert.equal((await client.webhookSubscriptions.retrieve(subscription.id)).secret, rotated.secret);

    const types = await client.webhookSubscriptions.listEventTypes();
    assert.deepEqual(
      types.items.map((item) => [item.event_type, item.supported_versions]),
      [
        ['composio.trigger.message', ['V1', 'V2', 'V3']],
        ['composio.connected_account.expired', ['V3']],
        ['composio.trigger.disabled', ['V3']],
      ],
    );

    assert.deepEqual(await client.webhookSubscriptions.delete(subscription.id), { success: true });
    assert.deepEqual((await client.webhookSubscriptions.list()).items, []);
  });

  test('a second create raises ConflictError; errors carry the subscription slugs', async () => {
    const client = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const stranger = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    const body = { webhook_url: 'https://app.example.com/a', enabled_events: ['composio.trigger.message'] };
    const first = await client.webhookSubscriptions.create(body);
    await assert.rejects(client.webhookSubscriptions.create(body), (error) => {
      assert.ok(error instanceof ConflictError, `got ${error?.constructor?.name}`);
      assert.equal(error.error.error.slug, 'WebhookSubscription_AlreadyExists');
      assert.equal(error.headers.get('x-should-retry'), 'false');
      assert.match(error.error.error.suggested_fix, new RegExp(first.id));
      return true;
    });
    for (const call of [
      () => stranger.webhookSubscriptions.retrieve(first.id),
      () => stranger.webhookSubscriptions.update(first.id, {}),
      () => stranger.webhookSubscriptions.rotateSecret(first.id),
      () => stranger.webhookSubscriptions.delete(first.id),
    ]) {
      await assert.rejects(call(), (error) => {
        assert.ok(error instanceof NotFoundError, `got ${error?.constructor?.name}`);
        assert.equal(error.error.error.slug, 'WebhookSubscription_NotFound');
        return true;
      });
    }
    await assert.rejects(
      client.webhookSubscriptions.update(first.id, { enabled_events: [], webhook_url: 'ftp://x' }),
      (error) => {
        assert.ok(error instanceof BadRequestError, `got ${error?.constructor?.name}`);
        assert.equal(error.error.error.slug, 'WebhookSubscription_ValidationError');
        assert.equal(error.error.error.errors.length, 2);
        return true;
      },
    );
    assert.deepEqual(await client.webhookSubscriptions.retrieve(first.id), first);
  });
});

describe('@composio/client with configured keys', () => {
  let server;
  const key = randomKey();
  before(async () => {
    server = await startServer(['--api-key', key]);
  });
  after(() => stopServer(server));

  test('the configured key works and another raises AuthenticationError', async () => {
    const good = new Composio({ apiKey: key, baseURL: server.baseURL });
    const created = await good.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'c' });
    assert.match(created.id, /^we_/);

    const bad = new Composio({ apiKey: randomKey(), baseURL: server.baseURL });
    await assert.rejects(
      bad.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'c' }),
      (error) => {
        assert.ok(error instanceof AuthenticationError, `got ${error?.constructor?.name}`);
        assert.equal(error.status, 401);
        assert.equal(error.error.error.slug, 'HTTP_Unauthorized');
        return true;
      },
    );
  });
});
