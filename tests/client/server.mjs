// Starting and stopping the real webhooks-server binary for the node tests
// (client_test.mjs, core_test.mjs). WEBHOOKS_SERVER_BIN names it (CTest sets
// it).

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const serverBin = process.env.WEBHOOKS_SERVER_BIN;

// Starts the binary on a free port and an in-memory database, plus `args`,
// and resolves with its base URL once it prints the "listening on" line
// (the readiness signal; no sleeping).
export function startServer(args) {
  const child = spawn(serverBin, ['--port', '0', '--db', ':memory:', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (!match) return reject(new Error(`unexpected first line: ${line}`));
      resolve({ child, baseURL: match[1] });
    });
  });
}

export function stopServer(server) {
  if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
}
