// Prepares the benchmarked server's data over its HTTP API, as a client would:
// - key B's project gets --count endpoints (the list workloads read them all),
//   created a few at a time because each create waits for its own fsync;
// - key A's project gets E (create_idempotent, retrieve, patch), and S and
//   S-big, whose signing secret is set so the ingress accepts signed events
//   (scripts/bench fills S-big with stored events for ingress_100k).
// Usage: node setup.mjs --url BASE --key-a KEY --key-b KEY --secret S --count N
// Prints "endpoint_e=ID", "ingress_path=PATH", "ingress_big_id=ID" and
// "ingress_big_path=PATH" lines; exits non-zero, saying
// why, if any answer is not the expected one or the list does not show N.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'key-a': { type: 'string' },
    'key-b': { type: 'string' },
    secret: { type: 'string' },
    count: { type: 'string' },
  },
  strict: true,
});
const count = Number(values.count);
if (!values.url || !values['key-a'] || !values['key-b'] || !values.secret ||
    !Number.isInteger(count) || count < 1) {
  console.error('usage: node setup.mjs --url BASE --key-a KEY --key-b KEY --secret S --count N');
  process.exit(2);
}

async function call(method, path, key, body, expected) {
  const response = await fetch(`${values.url}/api/v3.1/webhook_endpoints${path}`, {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path || '/'}: ${response.status} (expected ${expected}): ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

const create = (key, clientId) =>
  call('POST', '', key, { toolkit_slug: 'slack', client_id: clientId }, 201);

try {
  let next = 0;
  const worker = async () => {
    while (next < count) await create(values['key-b'], `bench-list-${next++}`);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const listed = await call('GET', '', values['key-b'], undefined, 200);
  if (listed.items.length !== count) {
    throw new Error(`key B lists ${listed.items.length} endpoints, expected ${count}`);
  }

  const e = await create(values['key-a'], 'bench-e');
  const signed = async (clientId) => {
    const endpoint = await create(values['key-a'], clientId);
    await call('PATCH', `/${endpoint.id}`, values['key-a'], { data: { webhook_signing_secret: values.secret } }, 200);
    return endpoint;
  };
  const s = await signed('bench-s');
  const big = await signed('bench-s-big');
  console.log(`endpoint_e=${e.id}`);
  console.log(`ingress_path=${new URL(s.webhook_url).pathname}`);
  console.log(`ingress_big_id=${big.id}`);
  console.log(`ingress_big_path=${new URL(big.webhook_url).pathname}`);
} catch (error) {
  console.error(`setup: ${error.message}`);
  process.exit(1);
}
