/**
 * The embedded demo database, in a worker thread: PGlite (PostgreSQL in
 * WASM, in process, nothing to install) loaded with the demo data, served
 * over the PostgreSQL wire protocol on 127.0.0.1 by pglite-socket. The
 * server's adapter connects to it like to any PostgreSQL, so the demo runs
 * the same adapter code.
 *
 * A thread of its own, because PGlite executes statements synchronously:
 * in the main thread a heavy statement would stall the MCP server too.
 * (PGlite has no statement_timeout and ignores cancel requests: a heavy
 * demo query keeps this thread busy until it ends, but the server still
 * answers QUERY_TIMEOUT on time.)
 */
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DEMO_SQL } from './demo-data.js';

const port = parentPort;
if (port === null) throw new Error('demo-worker must run in a worker thread');

const db = await PGlite.create();
await db.exec(DEMO_SQL);
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
await server.start();
const [, listening] = server.getServerConn().split(':');
port.postMessage({ type: 'ready', port: Number(listening) });

port.on('message', async (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  await server.stop();
  await db.close();
  port.postMessage({ type: 'stopped' });
});
