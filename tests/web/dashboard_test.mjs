// The dashboard (web/) in Debian's chromium, driven by playwright-core,
// against the real binary (WEBHOOKS_SERVER_BIN, started by
// tests/client/server.mjs). Screenshots of each view go to
// DASHBOARD_SCREENSHOTS. Every wait is for a condition, never a sleep.
//
// Covers: the key form (a refused key shows the API's error); creating an
// endpoint and setting its secret through the generated form (shown
// masked); test events; an event sent from outside appearing in the open
// page within a second, while streams end every 2 s (resumed with
// Last-Event-ID); a hostile body shown as text with no script of its run and
// no CSP violation; "copy as curl" run through a shell; the subscription's
// secret hidden, revealed, rotated; a failing receiver then Resend showing a
// second attempt with 200, the status filter, Recover since; the activity
// chart; no console error on any view; a keyboard-only flow (Escape closes
// dialogs) and, on every view and dialog, every control focusable and named.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '../client/node_modules/playwright-core/index.mjs';
import { serverBin, startServer, stopServer } from '../client/server.mjs';

const SIGNING_SECRET = 'dashboard-signing-secret-0123456789';
const APP_TOKEN = 'xapp-1-dashboard-app-token-42';
const screenshots = process.env.DASHBOARD_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'dashboard-shots-'));
mkdirSync(screenshots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'dashboard-test-'));

const consoleErrors = [];
let step = '';

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function sendTestEvent(url, file) {
  const args = ['send-test-event', '--url', url, '--secret', SIGNING_SECRET];
  if (file) args.push('--file', file);
  const result = await run(serverBin, args);
  assert.equal(result.code, 0, `send-test-event failed: ${result.stdout}${result.stderr}`);
  return Date.now();
}

async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

// Presses Tab until `predicate` (run in the page) holds for the focused
// element: the control is reachable by keyboard alone.
async function tabTo(page, predicate, arg, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate, arg)) return;
  }
  throw new Error(`Tab never reached the control (${predicate})`);
}

const NAMED_ROLES = 'button|link|textbox|combobox|checkbox|radio|spinbutton|searchbox|listbox|switch|slider';
// Every visible control of the page takes the focus, and has a non-empty
// accessible name (from the browser's accessibility tree).
async function checkControls(page, view) {
  const unfocusable = await page.evaluate(() => {
    const bad = [];
    const before = document.activeElement;
    // An open modal dialog makes the rest of the page inert: check it alone.
    const scope = document.querySelector('dialog[open]') || document;
    for (const el of scope.querySelectorAll('button, input, select, textarea, a[href], summary')) {
      if (!el.checkVisibility()) continue;
      el.focus();
      if (document.activeElement !== el) bad.push(el.outerHTML.slice(0, 120));
    }
    if (before && before.focus) before.focus();
    return bad;
  });
  assert.deepEqual(unfocusable, [], `${view}: controls that cannot take the focus`);
  const modal = page.locator('dialog[open]');
  const snapshot = await ((await modal.count()) ? modal : page.locator('body')).ariaSnapshot();
  const unnamed = snapshot.split('\n').filter((line) =>
    new RegExp(`^\\s*- (${NAMED_ROLES})(\\s*$|:|\\s\\[)`).test(line));
  assert.deepEqual(unnamed, [], `${view}: controls without an accessible name\n${snapshot}`);
  const count = snapshot.split('\n').filter((line) => new RegExp(`^\\s*- (${NAMED_ROLES}) "`).test(line)).length;
  assert.ok(count > 0, `${view}: no named control found`);
}

async function gotoView(page, name, heading) {
  await page.locator(`#nav a[data-view="${name}"]`).click();
  await page.locator('h1', { hasText: heading }).waitFor();
}

async function main() {
  const hits = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      hits.push(body);
      const fail = hits.length === 1;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(fail ? 'receiver failing on purpose' : 'ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hooks/composio`;

  // No automatic retry within the test: the second attempt is the Resend.
  // Streams end every 2 s, so the page reconnects (Last-Event-ID) many
  // times while events arrive.
  const server = await startServer(['--retry-schedule', '1h', '--api-key', 'dashboard-test-key',
    '--stream-lifetime', '2']);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseURL });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    page.on('console', (message) => {
      // The one refusal the test asks for: a wrong key. And a live refresh
      // racing the delete may read the endpoint once more (a 404 the page
      // handles by dropping the card); the browser logs either response.
      if (step === 'wrong key' && /status of 401/.test(message.text())) return;
      if (step === 'delete endpoint' && /status of 404/.test(message.text())) return;
      if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(`[${step}] ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`[${step}] pageerror: ${error.message}`));
    const requests = [];
    page.on('request', (request) => requests.push({ url: request.url(), headers: request.headers() }));
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    step = 'open';
    const response = await page.goto(`${server.baseURL}/`);
    assert.ok(page.url().endsWith('/ui/'), `/ redirects to /ui/ (got ${page.url()})`);
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/);
    await page.locator('#key-input').waitFor();
    assert.equal(await page.locator('#forget').isVisible(), false, 'no Forget key before a key');
    assert.equal(await page.locator('#nav').isVisible(), false, 'no views before a key');
    await shot(page, '01-sign-in');
    await checkControls(page, 'sign in');

    // A refused key: the API's error (message, fix, request id) is shown in
    // the live region and the key form comes back.
    step = 'wrong key';
    await page.locator('#key-input').fill('not-a-key');
    await page.locator('#key-input').press('Enter');
    const refusal = page.locator('#messages[aria-live] .message.error');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /How to fix: .+/);
    assert.match(await refusal.textContent(), /Request id: req_/);
    await page.locator('#key-input').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
    await refusal.getByRole('button', { name: /Dismiss/ }).click();

    // Keyboard only: the key, a new endpoint, its setup through the form.
    step = 'keyboard: key';
    await page.locator('#key-input').focus();
    await page.keyboard.type('dashboard-test-key');
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'Endpoints' }).waitFor();
    assert.equal(await page.evaluate(() => location.href.includes('dashboard-test-key')), false, 'the key is not in the URL');
    await page.locator('#new-toolkit option[value="slack"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#new-toolkit').inputValue(), 'slack', 'the catalog offers slack, chosen first');

    step = 'keyboard: create endpoint';
    await tabTo(page, () => document.activeElement.id === 'new-client-id');
    await page.keyboard.type('dashboard-app');
    await page.keyboard.press('Enter');
    const card = page.locator('li.endpoint', { hasText: 'dashboard-app' });
    await card.waitFor();
    const webhookUrl = await card.locator('code.webhook-url').textContent();
    assert.match(webhookUrl, /\/webhook_ingress\/slack\/we_[A-Za-z0-9_-]{12}\/trigger_event$/);
    assert.match(await card.textContent(), /Not verified yet/);
    assert.match(await card.textContent(), /No setup data stored yet/);

    step = 'keyboard: edit setup';
    await tabTo(page, () => document.activeElement.textContent === 'Edit setup'
      && document.activeElement.closest('li.endpoint').textContent.includes('dashboard-app'));
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await shot(page, '03-endpoint-setup-form');
    await checkControls(page, 'setup form');
    assert.equal(await dialog.locator('input[name="webhook_signing_secret"]').getAttribute('type'), 'password');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'webhook_signing_secret', 'the dialog focuses its first field');
    await page.keyboard.type(SIGNING_SECRET);
    await page.keyboard.press('Tab');
    await page.keyboard.type(APP_TOKEN);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await card.locator('.setup', { hasText: `${SIGNING_SECRET.slice(0, 4)}...` }).waitFor();
    const pageText = await page.locator('body').textContent();
    assert.ok(!pageText.includes(SIGNING_SECRET) && !pageText.includes(APP_TOKEN), 'secrets are shown masked');

    step = 'keyboard: escape closes the delete dialog';
    await tabTo(page, () => document.activeElement.textContent === 'Delete');
    await page.keyboard.press('Space');
    await page.locator('dialog[open]', { hasText: 'Delete dashboard-app?' }).waitFor();
    await checkControls(page, 'delete confirmation');
    await page.keyboard.press('Escape');
    await page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Delete', 'the focus goes back to the button');
    await card.waitFor();

    step = 'copy webhook url';
    await card.getByRole('button', { name: /Copy webhook URL/ }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), webhookUrl);
    await shot(page, '02-endpoints');
    await checkControls(page, 'endpoints');

    step = 'test event button';
    await card.getByRole('button', { name: 'Send test event' }).click();
    await page.locator('#messages .message.ok', { hasText: 'Test event accepted' }).waitFor();

    // The events view, open while events arrive from outside.
    step = 'events view live';
    await card.getByRole('link', { name: 'Events' }).click();
    await page.locator('h1', { hasText: 'Events' }).waitFor();
    await page.locator('#live[data-state="open"]').waitFor();
    const events = page.locator('ol.events > li.event');
    await events.first().waitFor(); // the test event
    const before = await events.count();
    const sentAt = await sendTestEvent(webhookUrl);
    await page.waitForFunction((n) => document.querySelectorAll('ol.events > li.event').length === n + 1, before, { timeout: Math.max(1, 1000 - (Date.now() - sentAt)) });
    assert.ok(Date.now() - sentAt <= 1000, `event shown ${Date.now() - sentAt} ms after send-test-event exited`);
    // Its headers and body follow (the stream's message carries neither).
    await page.waitForFunction((n) => document.querySelectorAll('ol.events > li.event:not([data-pending])').length === n + 1, before);

    step = 'hostile body';
    const hostile = {
      token: 'XXYYZZ', team_id: 'T123', api_app_id: 'A123', type: 'event_callback',
      event_id: 'EvHOSTILE0001', event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'message', user: 'U123', channel: 'C123', ts: '1.2',
        text: "<img src=x onerror=window.__pwned=1> <script>window.__pwned=2</script> it's @here",
      },
    };
    const hostileFile = join(work, 'hostile.json');
    writeFileSync(hostileFile, JSON.stringify(hostile));
    const hostileSentAt = await sendTestEvent(webhookUrl, hostileFile);
    const hostileItem = page.locator('ol.events > li.event', { hasText: 'EvHOSTILE0001' });
    await hostileItem.waitFor({ timeout: 1000 });
    assert.ok(Date.now() - hostileSentAt <= 1000);
    await hostileItem.locator('pre.body').waitFor();
    const shown = await hostileItem.locator('pre.body').textContent();
    assert.ok(shown.includes('<img src=x onerror=window.__pwned=1>'), 'the img tag is shown as text');
    assert.ok(shown.includes('<script>window.__pwned=2</script>'), 'the script tag is shown as text');
    assert.equal(await page.locator('main img, main script').count(), 0, 'no element was made from the body');
    await hostileItem.getByRole('button', { name: 'Show raw body' }).click();
    assert.equal(await hostileItem.locator('pre.body').textContent(), JSON.stringify(hostile), 'the raw body is the bytes sent');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script of the body ran');

    step = 'copy as curl';
    await hostileItem.getByRole('button', { name: 'Copy as curl' }).click();
    const command = await page.evaluate(() => navigator.clipboard.readText());
    // Run the command with curl replaced by a function printing its
    // arguments: the shell must see the URL and the body exactly.
    const printed = await run('bash', ['-c', `curl() { printf '%s\\0' "$@"; }\n${command}`]);
    assert.equal(printed.code, 0, printed.stderr);
    const argv = printed.stdout.split('\0');
    assert.ok(argv.includes(webhookUrl), 'curl gets the webhook URL');
    assert.equal(argv[argv.indexOf('--data-raw') + 1], JSON.stringify(hostile), 'curl gets the body unchanged');
    assert.ok(argv.some((a) => /^content-type: application\/json/i.test(a)), 'curl gets the kept content-type');
    await shot(page, '04-events');
    await checkControls(page, 'events');

    // Subscription to a receiver that fails once, then Resend.
    step = 'subscription';
    await gotoView(page, 'subscription', 'Subscription');
    await page.locator('#sub-url').fill(receiverUrl);
    assert.equal(await page.locator('input[value="composio.trigger.message"]').isChecked(), true);
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.locator('.sub-url', { hasText: receiverUrl }).waitFor();
    const secretCode = page.locator('code.secret');
    assert.match(await secretCode.textContent(), /^•+$/, 'the secret is hidden by default');
    await shot(page, '05-subscription');
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const secret = await secretCode.textContent();
    assert.ok(secret.length >= 16 && !secret.includes('•'), 'the secret is revealed on demand');
    await checkControls(page, 'subscription');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Rotate secret' }).click();
    await page.waitForFunction((old) => {
      const text = document.querySelector('code.secret')?.textContent || '';
      return text !== old && !text.includes('•') && text.length >= 16;
    }, secret);
    await page.getByRole('button', { name: 'Hide secret' }).click();
    assert.match(await secretCode.textContent(), /^•+$/, 'hidden again');

    step = 'deliveries';
    await gotoView(page, 'deliveries', 'Deliveries');
    await page.locator('#live[data-state="open"]').waitFor();
    await sendTestEvent(webhookUrl);
    const delivery = page.locator('tr.delivery').first();
    await page.locator('tr.delivery[data-status="retrying"], tr.delivery[data-status="failed"]').first().waitFor();
    await delivery.getByRole('button', { name: 'Show attempts' }).click();
    await page.locator('tr.attempt[data-attempt="1"] .status-code', { hasText: '500' }).waitFor();
    await delivery.getByRole('button', { name: 'Resend' }).click();
    await page.locator('tr.attempt[data-attempt="2"] .status-code', { hasText: '200' }).waitFor();
    await page.locator('tr.delivery[data-status="succeeded"]').waitFor();
    assert.equal(hits.length, 2, 'the receiver got the first attempt and the resend');
    await page.locator('tr.attempt[data-attempt="1"] summary').click();
    await page.locator('tr.attempt[data-attempt="1"] pre', { hasText: 'receiver failing on purpose' }).waitFor();
    step = 'filter';
    await page.locator('#dlv-filter').selectOption('failed');
    await page.locator('p[role="status"]', { hasText: 'No deliveries match.' }).waitFor();
    await page.locator('#dlv-filter').selectOption('succeeded');
    await page.locator('tr.delivery[data-status="succeeded"]').waitFor();
    assert.equal(await page.locator('tr.delivery').count(), 1);
    await page.locator('tr.attempt[data-attempt="1"] pre', { hasText: 'receiver failing on purpose' }).waitFor();

    step = 'recover';
    await page.locator('#recover-since').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.locator('#messages .message.ok', { hasText: /^0 deliveries scheduled/ }).waitFor();
    await shot(page, '06-deliveries');
    await checkControls(page, 'deliveries');

    step = 'activity';
    await gotoView(page, 'activity', 'Activity');
    const chart = page.locator('svg.chart');
    await chart.waitFor();
    await page.locator('svg.chart rect.c-events').first().waitFor({ state: 'attached' });
    assert.match(await chart.getAttribute('aria-label'), /[1-9]\d* events received/);
    await shot(page, '07-activity');
    await checkControls(page, 'activity');

    step = 'delete endpoint';
    await gotoView(page, 'endpoints', 'Endpoints');
    await card.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.locator('dialog[open]');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'a confirmation starts on Cancel');
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
    await card.waitFor({ state: 'detached' });
    await page.locator('p[role="status"]', { hasText: 'No endpoints yet' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'the focus lands on the heading');

    step = 'forget key';
    await page.getByRole('button', { name: 'Forget key' }).click();
    await page.locator('#key-input').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the key is forgotten');

    step = 'end';
    assert.ok(requests.every((r) => !r.url.includes('dashboard-test-key')), 'the key never goes into a URL');
    const streams = requests.filter((r) => r.url.endsWith('/api/v3/webhook_activity/stream'));
    assert.ok(streams.length >= 3, `the page reconnected its stream (${streams.length} requests)`);
    assert.ok(streams.every((r) => r.headers['x-api-key']), 'the stream sends the key in x-api-key');
    assert.ok(streams.some((r) => /^[^.]+\.\d+$/.test(r.headers['last-event-id'] || '')), 'reconnects resume with Last-Event-ID');
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
    assert.deepEqual(consoleErrors, [], 'no console error on any view');
    await context.close();
  } finally {
    await browser.close();
    stopServer(server);
    receiver.close();
  }
}

const watchdog = setTimeout(() => {
  console.error(`dashboard test: timed out at step "${step}"`);
  process.exit(1);
}, 90_000);
try {
  await main();
  console.log(`dashboard test: ok (screenshots in ${screenshots})`);
} catch (error) {
  console.error(`dashboard test: failed at step "${step}"`);
  console.error(error);
  if (consoleErrors.length) console.error(`console errors:\n${consoleErrors.join('\n')}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
