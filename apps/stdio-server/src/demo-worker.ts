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
 *
 * Start-up loads a snapshot of the data directory made at build time
 * (dist/demo-db-<hash>.tar.gz, see demo-snapshot.ts): about 0.4 s, where
 * initdb and the seed take about 2.5 s. Without a snapshot for this exact
 * demo data, or when this PGlite cannot open it, the worker runs initdb and
 * the seed as before: slower, same database.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DEMO_SQL } from './demo-data.js';
import { type DemoOrigin, type DemoWorkerData, demoSnapshotName } from './demo-snapshot.js';

const port = parentPort;
if (port === null) throw new Error('demo-worker must run in a worker thread');
const options = (workerData ?? {}) as DemoWorkerData;
const snapshot = new URL(`./${demoSnapshotName(DEMO_SQL)}`, import.meta.url);

async function seeded(): Promise<PGlite> {
  const db = await PGlite.create();
  await db.exec(DEMO_SQL);
  return db;
}

async function open(): Promise<{ db: PGlite; origin: DemoOrigin }> {
  const tarball = await readFile(snapshot).catch(() => undefined);
  if (tarball !== undefined) {
    try {
      return { db: await PGlite.create({ loadDataDir: new Blob([tarball]) }), origin: 'snapshot' };
    } catch {
      // A snapshot this PGlite cannot open (another PostgreSQL catalog
      // version): build the database instead.
    }
  }
  return { db: await seeded(), origin: 'seeded' };
}

if (options.writeSnapshot === true) {
  // Build time (scripts/demo-snapshot.mjs): initdb, the seed, and the data
  // directory as a gzipped tarball beside this file. The snapshot leaves
  // out the template databases (a read-only demo creates no database),
  // and its WAL segments are 1 MB instead of 16: half the bytes to unpack
  // at every start (measured: about 0.25 s less).
  const db = await PGlite.create({ initDbStartParams: ['--wal-segsize=1'] });
  await db.exec(DEMO_SQL);
  for (const template of ['template0', 'template1']) {
    await db.exec(`ALTER DATABASE ${template} IS_TEMPLATE false`);
    await db.exec(`DROP DATABASE ${template}`);
  }
  await db.exec('CHECKPOINT');
  const dump = await db.dumpDataDir('gzip');
  await writeFile(snapshot, Buffer.from(await dump.arrayBuffer()));
  await db.close();
  port.postMessage({ type: 'snapshot', path: snapshot.pathname, bytes: dump.size });
} else {
  const { db, origin } = await open();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const [, listening] = server.getServerConn().split(':');
  port.postMessage({ type: 'ready', port: Number(listening), origin });

  port.on('message', async (message: { type?: string }) => {
    if (message.type !== 'stop') return;
    await server.stop();
    await db.close();
    port.postMessage({ type: 'stopped' });
  });
}
