import { createHash, randomBytes } from 'node:crypto';
import { mysqlTestUrl, postgresTestUrl, urlWithDatabase } from '@sqlwarden/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  onMysql,
  onTestPostgres,
  type RunningHttp,
  startHttp,
  structured,
  tempDir,
  v1Client,
  v2Client,
} from './harness.js';

// Column policies over HTTP: one sqlwarden-http, two static tokens, one per
// principal (an analyst, for whom ssn is denied and email and salary are
// masked; a dpo, for whom nothing is), against the test PostgreSQL (source
// main) and MariaDB (source shop). The policies follow the verified
// credential's principal, call by call.

const s = `http_gov_${randomBytes(4).toString('hex')}`;
const dir = tempDir();
const ANALYST_TOKEN = randomBytes(32).toString('base64url');
const DPO_TOKEN = randomBytes(32).toString('base64url');
const SSN = `ssn-${s}`;
const EMAIL = `ada.${s}@example.org`;
const SALARY = '73125.17';
const DB = `sqlwarden_${s}`;
let server: RunningHttp;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

beforeAll(async () => {
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.people (id int PRIMARY KEY, name text, email text, ssn text, salary numeric(10,2));
    INSERT INTO ${s}.people VALUES (1, 'Ada', '${EMAIL}', '${SSN}', ${SALARY});
  `);
  await onMysql(`
    CREATE DATABASE ${DB} CHARACTER SET utf8mb4;
    CREATE TABLE ${DB}.people (id int PRIMARY KEY, name varchar(40), email varchar(80), ssn varchar(40), salary decimal(10,2));
    INSERT INTO ${DB}.people VALUES (1, 'Ada', '${EMAIL}', '${SSN}', ${SALARY});
  `);
  const grants = `[tool:query_read, tool:describe_table, "read:main:${s}.*", "read:shop:${DB}.*"]`;
  const config = dir.write(
    'sqlwarden.yaml',
    `server: { defaultSource: main }
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
  shop:
    kind: mysql
    url: \${E2E_MYSQL_URL}
    tables: ["${DB}.*"]
roles:
  analyst: ${grants}
  dpo: ${grants}
principals:
  ana: { roles: [analyst] }
  dora: { roles: [dpo] }
transports:
  http:
    port: 0
    auth:
      tokens:
        - { principal: ana, sha256: "\${E2E_ANALYST_HASH}" }
        - { principal: dora, sha256: "\${E2E_DPO_HASH}" }
governance:
  maskKey: \${E2E_MASK_KEY}
  columns:
    - { source: main, table: ${s}.people, columns: [ssn], action: deny, roles: [analyst] }
    - { source: main, table: ${s}.people, columns: [email], action: mask, mask: partial, roles: [analyst] }
    - { source: main, table: ${s}.people, columns: [salary], action: mask, mask: hash, roles: [analyst] }
    - { source: shop, table: ${DB}.people, columns: [ssn], action: deny, roles: [analyst] }
    - { source: shop, table: ${DB}.people, columns: [email], action: mask, mask: partial, roles: [analyst] }
    - { source: shop, table: ${DB}.people, columns: [salary], action: mask, mask: hash, roles: [analyst] }
`,
  );
  server = await startHttp(['--config', config], {
    env: {
      E2E_DATABASE_URL: postgresTestUrl(),
      E2E_MYSQL_URL: urlWithDatabase(mysqlTestUrl(), DB),
      E2E_ANALYST_HASH: hash(ANALYST_TOKEN),
      E2E_DPO_HASH: hash(DPO_TOKEN),
      E2E_MASK_KEY: randomBytes(32).toString('hex'),
    },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await onMysql(`DROP DATABASE IF EXISTS ${DB}`);
  dir.cleanup();
});

it('applies the policies of each token’s principal: masked and denied for the analyst, everything for the dpo', async () => {
  const analyst = await v2Client(server.url, ANALYST_TOKEN);
  const dpo = await v1Client(server.url, DPO_TOKEN);
  try {
    const masked = await analyst.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT id, email, salary FROM people' },
    });
    const all = JSON.stringify(masked);
    for (const secret of [EMAIL, SSN, SALARY]) expect(all).not.toContain(secret);
    const [row] = structured(masked).rows as unknown[][];
    expect(row?.[1]).toBe(`${'*'.repeat(EMAIL.length - 4)}.org`);
    expect(row?.[2]).toMatch(/^h:[0-9a-f]{16}$/);

    const denied = await analyst.callTool({
      name: 'query_read',
      arguments: { sql: `SELECT id FROM people WHERE ssn = '${SSN}'` },
    });
    expect(denied.isError).toBe(true);
    expect(structured(denied).error).toMatchObject({ code: 'QUERY_REJECTED' });

    const described = structured(
      await analyst.callTool({ name: 'describe_table', arguments: { table: 'people' } }),
    ) as { columns: Array<{ name: string; type: string }> };
    expect(described.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:integer',
      'name:text',
      'email:text (masked: partial)',
      'salary:text (masked: hash)',
    ]);

    const clear = await dpo.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT ssn, email, salary FROM people' },
    });
    expect(structured(clear).rows).toEqual([[SSN, EMAIL, SALARY]]);
  } finally {
    await analyst.close();
    await dpo.close();
  }
  await expect
    .poll(
      () =>
        server
          .auditLines()
          .filter((line) => line.principalId === 'ana' && line.columnPolicies !== undefined)
          .map((line) => line.columnPolicies),
      { timeout: 5000 },
    )
    .toContainEqual([
      { table: `${s}.people`, column: 'email', action: 'mask' },
      { table: `${s}.people`, column: 'salary', action: 'mask' },
    ]);
  for (const secret of [EMAIL, SSN, SALARY]) expect(server.stderr()).not.toContain(secret);
});

it('does the same on the MariaDB source, whose policies are its own', async () => {
  const analyst = await v2Client(server.url, ANALYST_TOKEN);
  const dpo = await v1Client(server.url, DPO_TOKEN);
  const read = (client: typeof analyst | typeof dpo, sql: string) =>
    client.callTool({ name: 'query_read', arguments: { sql, source: 'shop' } });
  try {
    const masked = await read(analyst, 'SELECT id, email, salary FROM people');
    const all = JSON.stringify(masked);
    for (const secret of [EMAIL, SSN, SALARY]) expect(all).not.toContain(secret);
    const [row] = structured(masked).rows as unknown[][];
    expect(row?.[1]).toBe(`${'*'.repeat(EMAIL.length - 4)}.org`);
    expect(row?.[2]).toMatch(/^h:[0-9a-f]{16}$/);
    for (const sql of [
      `SELECT id FROM people WHERE ssn = '${SSN}'`,
      'SELECT * FROM people',
      'SELECT `SSN` FROM `people`',
      'SELECT id FROM people ORDER BY salary',
    ]) {
      const refused = await read(analyst, sql);
      expect(refused.isError, sql).toBe(true);
      expect(structured(refused).error, sql).toMatchObject({ code: 'QUERY_REJECTED' });
      for (const secret of [EMAIL, SSN, SALARY])
        expect(JSON.stringify(refused)).not.toContain(secret);
    }
    const described = structured(
      await analyst.callTool({
        name: 'describe_table',
        arguments: { table: 'people', source: 'shop' },
      }),
    ) as { columns: Array<{ name: string; type: string }> };
    expect(described.columns.map((c) => c.name)).toEqual(['id', 'name', 'email', 'salary']);
    expect(described.columns.slice(2).map((c) => c.type)).toEqual([
      'text (masked: partial)',
      'text (masked: hash)',
    ]);
    expect(structured(await read(dpo, 'SELECT ssn, email, salary FROM people')).rows).toEqual([
      [SSN, EMAIL, SALARY],
    ]);
  } finally {
    await analyst.close();
    await dpo.close();
  }
  for (const secret of [EMAIL, SSN, SALARY]) expect(server.stderr()).not.toContain(secret);
});
