// @composio/core 0.19.0 as the receiving app, against the real
// webhooks-server binary (WEBHOOKS_SERVER_BIN, set by CTest): the SDK sets the
// project's webhook subscription, a signed Slack event arrives at the ingress,
// and the delivery that reaches a receiver here is accepted by the SDK's own
// verifier, triggers.parse(req, {verifySecret}). After a rotation only the
// new secret verifies. Construct the SDK offline: allowTracking false and
// disableVersionCheck true, or it reaches for the network.

import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import ComposioClient from '@composio/client';
import { Composio } from '@composio/core';

import { serverBin, startServer, stopServer } from './server.mjs';

const signingSecret = 'core-test-slack-signing-secret-0123';

// The app under development: records each delivery (raw body and headers)
// and answers 200. next() resolves with the next one to arrive.
function startReceiver() {
  const arrived = [];
  const waiting = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const delivery = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const waiter = waiting.shift();
      if (waiter) waiter(delivery);
      else arrived.push(delivery);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/webhooks/composio`,
        close: () => server.close(),
        next: () =>
          new Promise((resolveNext, rejectNext) => {
            if (arrived.length > 0) return resolveNext(arrived.shift());
            const timer = setTimeout(() => rejectNext(new Error('no delivery in 10 s')), 10_000);
            waiting.push((delivery) => {
              clearTimeout(timer);
              resolveNext(delivery);
            });
          }),
      });
    });
  });
}

// A Slack event signed as Slack signs it (v0 HMAC over "v0:{ts}:{body}").
async function sendSlackEvent(webhookUrl, eventId, text) {
  const body = JSON.stringify({
    token: 'XXYYZZ',
    team_id: 'T123ABC456',
    api_app_id: 'A123ABC456',
    event: { type: 'message', channel: 'C123ABC456', user: 'U123ABC456', text, ts: '1515449522.000016' },
    type: 'event_callback',
    event_id: eventId,
    event_time: 1515449522,
  });
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const signature = 'v0=' + createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  const response = await fetch(webhookUrl.replace('localhost', '127.0.0.1'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
    body,
  });
  assert.equal(response.status, 200, await response.text());
}

describe('@composio/core 0.19.0 receives our deliveries', () => {
  let server;
  let receiver;
  before(async () => {
    assert.ok(serverBin, 'WEBHOOKS_SERVER_BIN must name the built server');
    server = await startServer(['--retry-schedule', '100ms']);
    receiver = await startReceiver();
  });
  after(() => {
    receiver?.close();
    stopServer(server);
  });

  test('setWebhookSubscription, a signed event, triggers.parse verifies; rotation', async () => {
    const apiKey = `test-${randomBytes(12).toString('hex')}`;
    const composio = new Composio({
      apiKey,
      baseURL: server.baseURL,
      allowTracking: false,
      disableVersionCheck: true,
    });
    const client = new ComposioClient({ apiKey, baseURL: server.baseURL });

    const subscription = await composio.triggers.setWebhookSubscription({ webhookUrl: receiver.url });
    assert.match(subscription.id, /^whs_[A-Za-z0-9_-]{12}$/);
    assert.equal(subscription.webhookUrl, receiver.url);
    assert.equal(subscription.version, 'V3');
    assert.deepEqual(subscription.enabledEvents, ['composio.trigger.message']);
    assert.ok(subscription.secret);
    // A second call lists, finds it and PATCHes: the same subscription.
    const again = await composio.triggers.setWebhookSubscription({ webhookUrl: receiver.url });
    assert.equal(again.id, subscription.id);

    const endpoint = await client.webhookEndpoints.create({ toolkit_slug: 'slack', client_id: 'core-app' });
    await client.webhookEndpoints.update(endpoint.id, {
      data: { webhook_signing_secret: signingSecret, app_token: 'xapp-1-A0123456789-tok' },
    });
    await sendSlackEvent(endpoint.webhook_url, 'EvCore1', 'hello from slack');

    const first = await receiver.next();
    const parsed = await composio.triggers.parse(first, { verifySecret: subscription.secret });
    assert.equal(parsed.version, 'V3');
    assert.equal(parsed.payload.triggerSlug, 'SLACK_RECEIVE_MESSAGE');
    assert.equal(parsed.payload.id, endpoint.id);
    assert.equal(parsed.payload.userId, 'U123ABC456');
    assert.equal(parsed.payload.payload.event.text, 'hello from slack');
    // verifyWebhook with the contract's parameter names accepts it too.
    await composio.triggers.verifyWebhook({
      id: first.headers['webhook-id'],
      payload: first.body,
      signature: first.headers['webhook-signature'],
      secret: subscription.secret,
      timestamp: first.headers['webhook-timestamp'],
    });
    // A wrong secret is refused by the SDK: the check is real.
    await assert.rejects(composio.triggers.parse(first, { verifySecret: 'not-the-secret' }));

    const rotated = await client.webhookSubscriptions.rotateSecret(subscription.id);
    assert.equal(rotated.id, subscription.id);
    assert.notEqual(rotated.secret, subscription.secret);
    await sendSlackEvent(endpoint.webhook_url, 'EvCore2', 'after rotation');
    const second = await receiver.next();
    const verified = await composio.triggers.parse(second, { verifySecret: rotated.secret });
    assert.equal(verified.payload.payload.event.text, 'after rotation');
    await assert.rejects(composio.triggers.parse(second, { verifySecret: subscription.secret }));
  });
});
