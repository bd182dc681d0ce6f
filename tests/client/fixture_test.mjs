// The fixture helper (clients/node, webhooks-server-fixture) itself: it
// starts the real binary, the API answers at the base URL it gives, stop()
// ends the process, and a server that cannot start rejects with what it
// said on standard error. Needs no npm packages.

import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../../clients/node/index.mjs';

const binary = process.env.WEBHOOKS_SERVER_BIN;

test('starts the server, which serves the API, and stops it', async () => {
  assert.ok(binary, 'WEBHOOKS_SERVER_BIN must name the built server');
  const server = await startServer({ binary });
  let stopped = false;
  try {
    assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const headers = { 'x-api-key': `key_${randomBytes(8).toString('hex')}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.baseUrl}/api/v3.1/webhook_endpoints`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ toolkit_slug: 'slack', client_id: 'fixture-app' }),
    });
    assert.equal(created.status, 201);
    const endpoint = await created.json();
    assert.match(endpoint.id, /^we_/);
    // A test's reset between cases.
    const reset = await fetch(`${server.baseUrl}/api/v3.1/_local/reset`, { method: 'POST', headers });
    assert.equal(reset.status, 200);
    const listed = await (await fetch(`${server.baseUrl}/api/v3.1/webhook_endpoints`, { headers })).json();
    assert.deepEqual(listed.items, []);

    const exit = await server.stop();
    stopped = true;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(server.stderr(), /stopped cleanly/);
    await assert.rejects(fetch(`${server.baseUrl}/healthz`));
    // A second stop is harmless and says the same.
    assert.deepEqual(await server.stop(), exit);
  } finally {
    if (!stopped) await server.stop();
  }
});

test('the caller\'s args and env reach the server', async () => {
  const server = await startServer({ binary, args: ['--id-seed', '7'], env: { WEBHOOKS_LOG_LEVEL: 'warn' } });
  try {
    const health = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await server.stop();
  }
  assert.match(server.stderr(), /id_seed=7/);
  assert.match(server.stderr(), /log_level=warn/);
});

test('a server that cannot start rejects with its standard error', async () => {
  await assert.rejects(startServer({ binary, args: ['--no-such-flag'] }), (error) => {
    assert.match(error.message, /exited with 2 before listening/);
    assert.match(error.message, /unknown option --no-such-flag/);
    return true;
  });
  await assert.rejects(startServer({ binary: '/nonexistent/webhooks-server' }), /could not be run/);
});
