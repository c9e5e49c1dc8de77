/**
 * The build-time snapshot of the demo database: its file name, and what the
 * worker is told. The name carries a hash of the demo SQL, so a worker only
 * ever loads the snapshot of its own data; a stale or missing file means
 * initdb and the seed at start-up instead.
 */
import { createHash } from 'node:crypto';

/** Where the demo database came from: the build-time snapshot, or initdb and the seed. */
export type DemoOrigin = 'snapshot' | 'seeded';

export interface DemoWorkerData {
  /** Build time only: seed a fresh database, write the snapshot beside the worker, exit. */
  readonly writeSnapshot?: boolean;
}

export function demoSnapshotName(sql: string): string {
  const hash = createHash('sha256').update(sql).digest('hex').slice(0, 12);
  return `demo-db-${hash}.tar.gz`;
}
