// Starting and stopping the real webhooks-server binary for the node tests
// (client_test.mjs, core_test.mjs, tests/web/dashboard_test.mjs), through
// the repository's own fixture helper (clients/node). WEBHOOKS_SERVER_BIN
// names the binary (CTest sets it).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { startServer as startFixture } from '../../clients/node/index.mjs';

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
// or a PostgreSQL schema: the helper's --db :memory: is overridden by the
// later flag), plus `args`, and resolves with its base URL once it prints
// the "listening on" line.
export async function startServer(args) {
  const server = await startFixture({ binary: serverBin, args: ['--db', testDatabase(), ...args] });
  return { baseURL: server.baseUrl, stop: server.stop };
}

// Stops the server (SIGTERM, then SIGKILL if it lingers); a promise that
// node:test's after() awaits.
export function stopServer(server) {
  return server ? server.stop() : Promise.resolve();
}
