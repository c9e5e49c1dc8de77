/**
 * The adapter conformance suite: one body of tests, parameterized over
 * adapters, that every `DatabaseAdapter` must pass against its real
 * database (docs/conformance.md). A target says only what differs per
 * database (target.ts): how to make an isolated namespace and run admin
 * SQL in it, the fixture DDL in its dialect, the type names it reports,
 * how to build the adapter, a heavy query, and how to see and kill our
 * running statements. Everything the suite asserts is the same for every
 * target: the value contract of `ReadResultSchema` (@sqlwarden/core,
 * result.ts), limits and truncation, timeouts, cancellation, connection
 * loss, injection, introspection, the words of database errors, writes,
 * and faults.
 *
 * One file per area, each a function of the shared context (context.ts).
 *
 * Outcomes only: no assertion about how fast anything was. The only waits
 * are bounded polls of the running-statements hook (a cancelled statement
 * takes a moment to leave the server's process list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APOSTROPHE_TABLE, ConformanceContext, SPACE_TABLE } from './context.js';
import { describeDatabaseErrors } from './errors.js';
import { describeAdapterFaults } from './faults.js';
import { describeInjection } from './injection.js';
import { describeIntrospection } from './introspection.js';
import { describeLimits } from './limits.js';
import type { ConformanceTarget } from './target.js';
import { describeTimeAndCancellation } from './time.js';
import { describeValueContract } from './values.js';
import { describeWrites } from './writes.js';

/**
 * Registers the conformance suite for one target (call it at the top of a
 * test file). Creates two namespaces, loads the fixture, runs every check,
 * and drops the namespaces and closes every adapter afterwards. The fault
 * suite (faults.ts) runs with it, on a server of its own.
 */
export function describeAdapterConformance(target: ConformanceTarget): void {
  const ctx = new ConformanceContext(target);
  const { q } = ctx;

  describe(`adapter conformance: ${target.name}`, () => {
    beforeAll(async () => {
      ctx.ns = await target.createNamespace('cf');
      ctx.other = await target.createNamespace('cf_other');
      const { ns, other } = ctx;
      for (const statement of target.fixture.statements) await ns.exec(statement);
      await ns.exec('CREATE TABLE cf_victim (id int PRIMARY KEY, label varchar(100) NOT NULL)');
      await ns.exec("INSERT INTO cf_victim (id, label) VALUES (1, 'keep')");
      await ns.exec(
        'CREATE TABLE cf_writes (id int PRIMARY KEY, v int NOT NULL, note varchar(200))',
      );
      for (const name of [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE]) {
        await ns.exec(`CREATE TABLE ${q(name)} (id int PRIMARY KEY, label varchar(20) NOT NULL)`);
        await ns.exec(`INSERT INTO ${q(name)} (id, label) VALUES (1, 'odd')`);
      }
      await other.exec('CREATE TABLE cf_other (id int PRIMARY KEY)');
      ctx.adapter = await target.createAdapter(ctx.adapterOptions());
    });

    afterAll(async () => {
      for (const made of [ctx.adapter, ...ctx.extra]) await made?.close();
      await ctx.ns?.drop();
      await ctx.other?.drop();
    });

    it('is an adapter of the target dialect', () => {
      expect(ctx.adapter.dialect).toBe(target.dialect);
      expect(typeof ctx.adapter.source).toBe('string');
    });

    describeIntrospection(ctx);
    describeValueContract(ctx);
    describeLimits(ctx);
    describeInjection(ctx);
    describeDatabaseErrors(ctx);
    describeTimeAndCancellation(ctx);
    describeWrites(ctx);
  });

  // The same adapter, with calls in flight, against a server that restarts,
  // crashes, loses sessions, its database, its network (faults.ts).
  describeAdapterFaults(target);
}
