import { connect, createServer, type Server } from 'node:net';
import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { type DatabaseIdentity, SqlwardenError } from '@sqlwarden/core';
import { createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter } from './index.js';
import { callSetup, identitySettings, transactionSetup } from './session.js';

// A call's database identity (core's DatabaseIdentity) against the real
// PostgreSQL of this machine: SET LOCAL ROLE and the transaction-local
// sqlwarden.subject, for reads, cost estimates and writes, in both pooling
// modes (pooling: transaction runs here without a pooler: the set-up alone
// is what it adds). Roles and a schema of their own, dropped afterwards.

let db: TestSchema;
const ROLES = `sqlwarden_identity_${process.pid}_${Date.now().toString(36)}`;
const ALICE = `${ROLES}_alice`;
const BOB = `${ROLES}_bob`;
/** A login role that is a member of ALICE only (not of BOB), and no superuser. */
const SOURCE_USER = `${ROLES}_src`;
/** A role that is never created. */
const GHOST = `${ROLES}_ghost`;

const LIMITS = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };
const signal = () => new AbortController().signal;
const alice: DatabaseIdentity = { role: ALICE, subject: 'u-alice' };
const bob: DatabaseIdentity = { role: BOB, subject: 'u-bob' };

function urlFor(user: string, port?: number): string {
  const url = new URL(postgresTestUrl());
  url.username = user;
  url.password = '';
  if (port !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(port);
  }
  return url.toString();
}

const adapters: SourceAdapter[] = [];
function newAdapter(
  options: { user?: string; pooling?: 'session' | 'transaction'; port?: number } = {},
): SourceAdapter {
  const adapter = createPostgresAdapter({
    allowWrites: true,
    source: 'main',
    connection: {
      connectionString: urlFor(options.user ?? new URL(postgresTestUrl()).username, options.port),
      ...(options.pooling !== undefined && { pooling: options.pooling }),
    },
    defaultSchema: db.name,
    statementTimeoutMs: LIMITS.timeoutMs,
    // One connection: every call below reuses the one before it.
    pool: { max: 1, connectionTimeoutMs: 3000 },
  });
  adapters.push(adapter);
  return adapter;
}

const read = (
  adapter: SourceAdapter,
  sql: string,
  identity?: DatabaseIdentity,
  extra: { costCeiling?: { maxCost?: number; maxRows?: number } } = {},
) =>
  adapter.read({
    sql,
    params: [],
    limits: LIMITS,
    signal: signal(),
    ...(identity !== undefined && { identity }),
    ...extra,
  });

const write = (
  adapter: SourceAdapter,
  sql: string,
  params: unknown[],
  identity?: DatabaseIdentity,
) =>
  adapter.write({
    sql,
    params,
    maxAffectedRows: 10,
    timeoutMs: LIMITS.timeoutMs,
    signal: signal(),
    dryRun: false,
    ...(identity !== undefined && { identity }),
  });

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (SqlwardenError.is(error)) return { code: error.code, message: error.message };
    return { code: `not a SqlwardenError: ${String(error)}`, message: '' };
  }
  return { code: 'ok', message: '' };
}

beforeAll(async () => {
  db = await createTestSchema('sqlwarden_identity');
  await db.client.query(`
    CREATE ROLE ${ALICE} NOLOGIN;
    CREATE ROLE ${BOB} NOLOGIN;
    CREATE ROLE ${SOURCE_USER} LOGIN NOSUPERUSER;
    GRANT ${ALICE} TO ${SOURCE_USER};
    GRANT USAGE ON SCHEMA ${db.name} TO ${ALICE}, ${BOB}, ${SOURCE_USER};
    CREATE TABLE docs (
      id int PRIMARY KEY,
      owner text NOT NULL DEFAULT current_setting('sqlwarden.subject', true),
      made_by text NOT NULL DEFAULT current_user,
      body text
    );
    ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
    ALTER TABLE docs FORCE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON docs USING (owner = current_setting('sqlwarden.subject', true));
    GRANT SELECT, INSERT, UPDATE, DELETE ON docs TO ${ALICE}, ${BOB};
    CREATE TABLE hidden (x int);
    INSERT INTO hidden VALUES (1);
    INSERT INTO docs (id, owner, body) VALUES (1, 'u-alice', 'a1'), (2, 'u-alice', 'a2'), (3, 'u-bob', 'b1');
  `);
});

afterAll(async () => {
  await Promise.allSettled(adapters.map((a) => a.close()));
  if (db === undefined) return;
  await db.client.query(`DROP SCHEMA ${db.name} CASCADE`);
  await db.client.query(`DROP ROLE IF EXISTS ${ALICE}, ${BOB}, ${SOURCE_USER}`);
  await db.drop();
});

describe('the set-up statement', () => {
  it('binds the role and the subject as values, never as SQL text', () => {
    const setup = callSetup({
      kind: 'read',
      identity: { role: 'x"; RESET ROLE; --', subject: "s'1" },
    });
    expect(setup?.text).toBe(
      "SELECT WHERE pg_catalog.concat(pg_catalog.set_config('sqlwarden.subject', $1, true), pg_catalog.set_config('role', $2, true)) IS NULL",
    );
    expect(setup?.values).toEqual(["s'1", 'x"; RESET ROLE; --']);
  });

  it('is nothing at all on a trusted session without identity (no statement, no round trip)', () => {
    expect(callSetup({ kind: 'read' })).toBeUndefined();
    expect(callSetup({ kind: 'write' })).toBeUndefined();
  });

  it('adds the identity after the transaction settings, numbered after their values', () => {
    const setup = transactionSetup({
      kind: 'write',
      timeLimitMs: 1000,
      defaultSchema: 'public',
      identity: { role: 'r', subject: 's' },
    });
    expect(setup.text).toContain("set_config('sqlwarden.subject', $4, true)");
    expect(setup.text).toContain("set_config('role', $5, true)");
    expect(setup.values).toEqual(['1000', '"public"', '6000', 's', 'r']);
  });

  it('refuses "none" as a role (to PostgreSQL it means the session user) and an empty subject', () => {
    expect(() => identitySettings({ role: 'none', subject: 's' }, 1)).toThrow(
      /cannot be a database role/,
    );
    expect(() => identitySettings({ role: 'NONE', subject: 's' }, 1)).toThrow(
      /cannot be a database role/,
    );
    expect(() => identitySettings({ subject: '' }, 1)).toThrow(/needs a subject/);
  });
});

describe.each(['session', 'transaction'] as const)('with pooling: %s', (pooling) => {
  it('reads as the role, with the subject set, and the connection goes back as the source user', async () => {
    const adapter = newAdapter({ pooling });
    const who =
      "SELECT current_user::text, session_user::text, current_setting('sqlwarden.subject', true)";
    expect((await read(adapter, who, alice)).rows).toEqual([[ALICE, 'postgres', 'u-alice']]);
    // The same (only) connection, next call without identity: nothing was left on it.
    const after = (await read(adapter, who)).rows[0];
    expect(after?.[0]).toBe('postgres');
    expect(after?.[2] ?? '').toBe('');
    expect((await read(adapter, who, bob)).rows).toEqual([[BOB, 'postgres', 'u-bob']]);
  });

  it('puts a superuser source under row-level security once it takes a role', async () => {
    const adapter = newAdapter({ pooling });
    // Rows 1-3 only: the writes below add their own.
    const ids = 'SELECT id FROM docs WHERE id < 10 ORDER BY id';
    // The superuser bypasses RLS, even with FORCE ROW LEVEL SECURITY, subject or not.
    expect((await read(adapter, ids)).rows).toEqual([[1], [2], [3]]);
    expect((await read(adapter, ids, { subject: 'u-alice' })).rows).toEqual([[1], [2], [3]]);
    // As the role, the policy applies: each subject its own rows.
    expect((await read(adapter, ids, alice)).rows).toEqual([[1], [2]]);
    expect((await read(adapter, ids, bob)).rows).toEqual([[3]]);
    expect((await read(adapter, ids, { role: ALICE, subject: 'nobody' })).rows).toEqual([]);
  });

  it('estimates under the role (the cost gate plans what the role may read)', async () => {
    const adapter = newAdapter({ pooling });
    const answer = await read(adapter, 'SELECT id FROM docs WHERE id < 10', alice, {
      costCeiling: { maxCost: 1e9 },
    });
    expect(answer.rows).toEqual([[1], [2]]);
    expect(answer.estimate?.cost).toBeGreaterThan(0);
    // EXPLAIN checks privileges: as the role, a table it was not granted is refused
    // at the estimate, before the read (the superuser alone could plan it).
    expect(
      (await read(adapter, 'SELECT x FROM hidden', undefined, { costCeiling: { maxCost: 1e9 } }))
        .rows,
    ).toEqual([[1]]);
    const refused = await failure(
      read(adapter, 'SELECT x FROM hidden', alice, { costCeiling: { maxCost: 1e9 } }),
    );
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).not.toMatch(/database role/);
  });

  it('writes as the role: the defaults see the role and the subject, and the policy checks the new row', async () => {
    const adapter = newAdapter({ pooling });
    const id = pooling === 'session' ? 10 : 20;
    expect(
      await write(adapter, 'INSERT INTO docs (id, body) VALUES ($1, $2)', [id, 'new'], alice),
    ).toEqual({ affectedRows: 1, committed: true });
    const row = await db.client.query('SELECT owner, made_by FROM docs WHERE id = $1', [id]);
    expect(row.rows).toEqual([{ owner: 'u-alice', made_by: ALICE }]);
    // A row for another subject violates the policy (its USING is the check): the
    // role's own refusal, not the identity's.
    const refused = await failure(
      write(
        adapter,
        'INSERT INTO docs (id, owner, body) VALUES ($1, $2, $3)',
        [id + 1, 'u-bob', 'x'],
        alice,
      ),
    );
    expect(refused.code).not.toBe('ok');
    expect(refused.message).not.toMatch(/database role/);
    // Bob cannot touch Alice's rows: the UPDATE sees none of them.
    expect(
      await write(adapter, 'UPDATE docs SET body = $1 WHERE id = $2', ['stolen', id], bob),
    ).toEqual({ affectedRows: 0, committed: true });
    // And the connection is the source user's again.
    expect((await read(adapter, 'SELECT current_user::text')).rows).toEqual([['postgres']]);
  });

  it('refuses every call, nothing run, when the source user is not a member of the role', async () => {
    const adapter = newAdapter({ pooling, user: SOURCE_USER });
    // The member role works for this user.
    expect((await read(adapter, 'SELECT current_user::text', alice)).rows).toEqual([[ALICE]]);
    for (const attempt of [
      read(adapter, 'SELECT 1', bob),
      read(adapter, 'SELECT 1', bob, { costCeiling: { maxCost: 1e9 } }),
      write(adapter, 'INSERT INTO docs (id, body) VALUES ($1, $2)', [99, 'x'], bob),
    ]) {
      const refused = await failure(attempt);
      expect(refused.code).toBe('FORBIDDEN');
      expect(refused.message).toContain(`not a member of the role "${BOB}"`);
      expect(refused.message).toContain(`GRANT "${BOB}" TO`);
    }
    expect((await db.client.query('SELECT 1 FROM docs WHERE id = 99')).rowCount).toBe(0);
    // Never a fall-back: the connection still answers, as the source user.
    expect((await read(adapter, 'SELECT current_user::text')).rows).toEqual([[SOURCE_USER]]);
  });

  it('refuses a role that does not exist, saying to create it', async () => {
    const adapter = newAdapter({ pooling });
    const ghost = { role: GHOST, subject: 'u-ghost' };
    for (const attempt of [
      read(adapter, 'SELECT 1', ghost),
      read(adapter, 'SELECT 1', ghost, { costCeiling: { maxCost: 1e9 } }),
      write(adapter, 'INSERT INTO docs (id, body) VALUES ($1, $2)', [98, 'x'], ghost),
    ]) {
      const refused = await failure(attempt);
      expect(refused.code).toBe('FORBIDDEN');
      expect(refused.message).toContain(`the role "${GHOST}" does not exist`);
    }
    expect((await db.client.query('SELECT 1 FROM docs WHERE id = 98')).rowCount).toBe(0);
  });
});

/**
 * What the adapter sends, seen by a TCP proxy between it and the real
 * PostgreSQL: each Sync ('S') and each simple Query ('Q') is one round
 * trip (the client waits for ReadyForQuery before it goes on).
 */
class RoundTrips {
  count = 0;
  #server: Server | undefined;
  readonly #sockets = new Set<import('node:net').Socket>();

  async start(): Promise<number> {
    const target = new URL(postgresTestUrl());
    this.#server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      this.#sockets.add(client).add(upstream);
      let pending = Buffer.alloc(0);
      let started = false;
      client.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          if (!started) {
            // The startup message has no type byte.
            if (pending.length < 4 || pending.length < pending.readInt32BE(0)) break;
            pending = pending.subarray(pending.readInt32BE(0));
            started = true;
            continue;
          }
          if (pending.length < 5 || pending.length < 1 + pending.readInt32BE(1)) break;
          const type = String.fromCharCode(pending[0] as number);
          if (type === 'S' || type === 'Q') this.count += 1;
          pending = pending.subarray(1 + pending.readInt32BE(1));
        }
      });
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  /** Round trips of `work`. */
  async of(work: () => Promise<unknown>): Promise<number> {
    const before = this.count;
    await work();
    return this.count - before;
  }

  stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server?.close(() => resolve()));
  }
}

describe.each(['session', 'transaction'] as const)('round trips with pooling: %s', (pooling) => {
  it('are the same with an identity as without: it travels with the statement', async () => {
    const trips = new RoundTrips();
    const port = await trips.start();
    try {
      const adapter = newAdapter({ pooling, port });
      // The connection opens (and its session is set up) before counting.
      await read(adapter, 'SELECT 1');
      const cost = { costCeiling: { maxCost: 1e9 } };
      const insert = (id: number, identity?: DatabaseIdentity) => () =>
        write(
          adapter,
          'INSERT INTO docs (id, owner, body) VALUES ($1, $2, $3)',
          [id, 'u-alice', 'rt'],
          identity,
        );
      const plain = {
        read: await trips.of(() => read(adapter, 'SELECT id FROM docs')),
        estimated: await trips.of(() => read(adapter, 'SELECT id FROM docs', undefined, cost)),
        write: await trips.of(insert(pooling === 'session' ? 30 : 40)),
      };
      const identified = {
        read: await trips.of(() => read(adapter, 'SELECT id FROM docs', alice)),
        estimated: await trips.of(() => read(adapter, 'SELECT id FROM docs', alice, cost)),
        write: await trips.of(insert(pooling === 'session' ? 31 : 41, alice)),
      };
      expect(plain).toEqual({ read: 1, estimated: 2, write: 3 });
      expect(identified).toEqual(plain);
      await adapter.close();
    } finally {
      await trips.stop();
    }
  });
});
