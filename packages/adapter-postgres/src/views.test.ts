import { postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresAdapter } from './index.js';

// What views read (column policies), from the real catalog's pg_depend.

const SCHEMA = `sqlwarden_views_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;
const adapter = createPostgresAdapter({
  source: 'main',
  connection: { connectionString: postgresTestUrl() },
  defaultSchema: SCHEMA,
  statementTimeoutMs: 5000,
});

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgresTestUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${SCHEMA}; SET search_path = ${SCHEMA};
    CREATE TABLE people (id int, name text, ssn text);
    CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM people LIMIT 1 $$;
    CREATE VIEW names AS SELECT id, name FROM people;
    CREATE VIEW whole AS SELECT p FROM people p;
    CREATE VIEW counted AS SELECT count(*) AS n FROM people;
    CREATE VIEW nested AS SELECT id FROM names;
    CREATE VIEW via_function AS SELECT leak() AS x;
    CREATE MATERIALIZED VIEW snapshot AS SELECT ssn FROM people;
    CREATE VIEW constant AS SELECT 1 AS one;
    CREATE TABLE events (id int, at date, ssn text) PARTITION BY RANGE (at);
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE TABLE people_archive (archived_at date) INHERITS (people);`);
});

afterAll(async () => {
  await adapter.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin?.end();
});

it('lists the columns each view reads, any column for a whole-row reference, nothing readable past a user function', async () => {
  const views = await adapter.viewDependencies({
    schemas: [SCHEMA],
    signal: new AbortController().signal,
  });
  const byName = Object.fromEntries(views.map((v) => [v.view.name, v]));
  const people = { schema: SCHEMA, name: 'people' };
  expect(byName.names?.reads).toEqual([{ ...people, columns: ['id', 'name'] }]);
  expect(byName.whole?.reads).toEqual([{ ...people, columns: null }]);
  expect(byName.counted?.reads).toEqual([{ ...people, columns: null }]);
  expect(byName.nested?.reads).toEqual([{ schema: SCHEMA, name: 'names', columns: ['id'] }]);
  expect(byName.snapshot?.reads).toEqual([{ ...people, columns: ['ssn'] }]);
  expect(byName.via_function).toEqual({
    view: { schema: SCHEMA, name: 'via_function' },
    definition: null,
  });
  expect(byName.constant?.reads).toEqual([]);
  expect(views.every((v) => v.view.schema === SCHEMA)).toBe(true);
});

it('gives each partition and inheritance child as reading its parent whole (its rows are the parent’s)', async () => {
  const views = await adapter.viewDependencies({
    schemas: [SCHEMA],
    signal: new AbortController().signal,
  });
  const byName = Object.fromEntries(views.map((v) => [v.view.name, v]));
  expect(byName.events_2026?.reads).toEqual([{ schema: SCHEMA, name: 'events', columns: null }]);
  expect(byName.people_archive?.reads).toEqual([{ schema: SCHEMA, name: 'people', columns: null }]);
  // A parent is not a child of anything.
  expect(byName.people).toBeUndefined();
  expect(byName.events).toBeUndefined();
});
