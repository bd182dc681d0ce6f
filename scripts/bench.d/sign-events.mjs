// Pre-generates signed Slack event callbacks for the ingress workload of
// scripts/bench, so wrk only replays bytes and the server sees distinct events.
// Usage: node sign-events.mjs --secret S --count N --prefix P --out FILE
// Writes one event a line: "<timestamp>\tv0=<hex signature>\t<raw JSON body>".
// The timestamp is now, so run it just before the ingress runs (Slack's
// window, which the server enforces, is 5 minutes).
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    secret: { type: 'string' },
    count: { type: 'string' },
    prefix: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});
const count = Number(values.count);
if (!values.secret || !values.prefix || !values.out || !Number.isInteger(count) || count < 1) {
  console.error('usage: node sign-events.mjs --secret S --count N --prefix P --out FILE');
  process.exit(2);
}

const timestamp = String(Math.floor(Date.now() / 1000));
const lines = new Array(count);
for (let i = 0; i < count; i++) {
  const body = JSON.stringify({
    type: 'event_callback',
    event_id: `Ev${values.prefix}${i}`,
    team_id: 'T1',
    event: { type: 'message', text: 'hello' },
  });
  const signature = createHmac('sha256', values.secret)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex');
  lines[i] = `${timestamp}\tv0=${signature}\t${body}\n`;
}
writeFileSync(values.out, lines.join(''));
