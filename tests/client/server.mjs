// Starting and stopping the real webhooks-server binary for the node tests
// (client_test.mjs, core_test.mjs). WEBHOOKS_SERVER_BIN names it (CTest sets
// it).

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const serverBin = process.env.WEBHOOKS_SERVER_BIN;

let schemas = 0;

// The database of one server: an in-memory one, or, when CTest runs the
// suite against PostgreSQL, a fresh schema
// of the test command's cluster (WEBHOOKS_TEST_PG_DIR), made with psql.
function testDatabase() {
  if (!process.env.WEBHOOKS_TEST_PG_DIR) return ':memory:';
  const uri = readFileSync(`${process.env.WEBHOOKS_TEST_PG_DIR}/uri`, 'utf8').trim();
  const schema = `client_${process.pid}_${++schemas}`;
  execFileSync('psql', ['--quiet', '--no-psqlrc', '--command', `CREATE SCHEMA ${schema}`, uri]);
  return `${uri}&options=-csearch_path%3D${schema}`;
}

// Starts the binary on a free port and a database of its own (in memory,
// or a PostgreSQL schema), plus `args`, and resolves with its base URL once
// it prints the "listening on" line (the readiness signal; no sleeping).
export function startServer(args) {
  const child = spawn(serverBin, ['--port', '0', '--db', testDatabase(), ...args], {
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
