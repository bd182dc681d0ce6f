// webhooks-server-fixture: starts the real webhooks-server binary for a test
// suite and stops it again. No dependencies: node's own child_process only.
//
//   import { startServer } from 'webhooks-server-fixture';
//   const server = await startServer();          // --port 0 --db :memory:
//   ... fetch(`${server.baseUrl}/api/v3.1/webhook_endpoints`, ...) ...
//   await server.stop();
//
// The server is ready when it prints "listening on http://HOST:PORT" as its
// first line of standard output; nothing here sleeps or polls.

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// build/webhooks-server of the repository this file is in (clients/node/).
const defaultBinary = resolve(dirname(fileURLToPath(import.meta.url)), '../../build/webhooks-server');

// The last bytes of standard error kept, for the error of a failed start.
const stderrKept = 64 * 1024;

/**
 * Starts webhooks-server on a free port with a private in-memory database.
 *
 * @param {object} [options]
 * @param {string} [options.binary] the server binary; else $WEBHOOKS_SERVER_BIN,
 *   else build/webhooks-server of this repository
 * @param {string[]} [options.args] more flags, after `--port 0 --db :memory:`
 *   (a later flag wins: pass `--db` to use another database)
 * @param {object} [options.env] environment variables added to this process's
 * @param {number} [options.startTimeoutMs] give up after this long (10 s)
 * @param {number} [options.stopTimeoutMs] SIGKILL after this long (10 s)
 * @returns {Promise<{baseUrl: string, pid: number, stderr: () => string,
 *   stop: () => Promise<{code: number|null, signal: string|null}>}>}
 *   Rejects, with the server's standard error in the message, if it exits or
 *   fails to say it is listening in time.
 */
export function startServer({ binary, args = [], env = {}, startTimeoutMs = 10_000, stopTimeoutMs = 10_000 } = {}) {
  const file = binary || process.env.WEBHOOKS_SERVER_BIN || defaultBinary;
  const child = spawn(file, ['--port', '0', '--db', ':memory:', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let listening = false;
  // Read both pipes for as long as the child lives: a full pipe would block
  // the server (its request log goes to standard error).
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-stderrKept);
  });
  child.stdout.setEncoding('utf8');
  // 'close', not 'exit': by then standard error is read to its end.
  const exited = new Promise((done) => {
    child.once('close', (code, signal) => done({ code, signal }));
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer;
      const late = new Promise((done) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          done();
        }, stopTimeoutMs);
      });
      await Promise.race([exited, late]);
      clearTimeout(timer);
    }
    return exited;
  };

  return new Promise((resolveStart, rejectStart) => {
    const fail = (why) => {
      clearTimeout(timer);
      stop().then(() => {
        const said = stderr.trim();
        rejectStart(new Error(`webhooks-server (${file}) ${why}${said ? `: ${said}` : ''}`));
      });
    };
    const timer = setTimeout(() => fail(`did not start within ${startTimeoutMs} ms`), startTimeoutMs);
    child.once('error', (error) => fail(`could not be run (${error.message})`));
    exited.then(({ code, signal }) => {
      if (!listening) fail(`exited with ${code ?? signal} before listening`);
    });
    child.stdout.on('data', (chunk) => {
      if (listening) return; // drained, never kept
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      const line = stdout.slice(0, newline);
      const match = /^listening on (http:\/\/\S+)$/.exec(line);
      if (!match) return fail(`printed "${line}" instead of its listening line`);
      listening = true;
      stdout = '';
      clearTimeout(timer);
      resolveStart({ baseUrl: match[1], pid: child.pid, stderr: () => stderr, stop });
    });
  });
}
