import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, signal, type TestDatabase } from './test-support.js';

// What views read (column policies), from the real MariaDB's catalog: it has
// no VIEW_TABLE_USAGE, so each view comes with its definition, unless the
// definition calls a stored routine (which could read any table).

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const statement of [
    'CREATE TABLE people (id int, name varchar(50), ssn varchar(20))',
    'CREATE FUNCTION leak() RETURNS varchar(20) READS SQL DATA RETURN (SELECT ssn FROM people LIMIT 1)',
    'CREATE VIEW names AS SELECT id, name FROM people',
    'CREATE VIEW via_function AS SELECT leak() AS x',
  ])
    await db.admin.query(statement);
});

afterAll(async () => {
  await db?.drop();
});

it("gives each view's definition, and none for a view that calls a stored routine", async () => {
  const views = await db.adapter().viewDependencies({ schemas: [db.name], signal: signal() });
  const byName = Object.fromEntries(views.map((v) => [v.view.name, v]));
  expect(Object.keys(byName).sort()).toEqual(['names', 'via_function']);
  const names = byName.names;
  // MySQL 8.0.13+ lists the tables instead; MariaDB gives the definition.
  if (names?.reads !== undefined) {
    expect(names.reads).toEqual([{ schema: db.name, name: 'people', columns: null }]);
  } else {
    expect(names?.definition).toMatch(/`people`/);
  }
  expect(byName.via_function).toEqual({
    view: { schema: db.name, name: 'via_function' },
    definition: null,
  });
});

it('lists no view of a schema it was not asked for', async () => {
  expect(await db.adapter().viewDependencies({ schemas: [], signal: signal() })).toEqual([]);
});
