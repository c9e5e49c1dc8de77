// Peak memory of sqlwarden-stdio for reads of very wide values, with the
// default limits (maxBytes 1 MiB): the queries an attacker used to end the
// process or make it take a gigabyte. Each query runs in a fresh server
// process, whose peak resident set (VmHWM in /proc) is read after it; the
// baseline is a fresh process that answered `SELECT 1`.
//
//   node bench/wide-values.mjs            (after pnpm build; PostgreSQL and MariaDB local)
//
// Target (the hardening issue): under 200 MB for each, default limits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const CLI = fileURLToPath(new URL('../apps/stdio-server/dist/cli.js', import.meta.url));
const PG_URL = process.env.BENCH_DATABASE_URL_ROOT ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MYSQL_URL = process.env.BENCH_MYSQL_URL_ROOT ?? 'mysql://root@127.0.0.1:3306/mysql';
const TARGET_MB = 200;

const CASES = [
  ['postgres', 'SELECT 1 AS baseline'],
  ['postgres', "SELECT repeat('x', 100000000) AS big"],
  ['postgres', "SELECT repeat('x', 400000000) AS big"],
  ['postgres', "SELECT repeat('x', 540000000) AS big"],
  ['postgres', "SELECT repeat('y', 100000) AS v FROM generate_series(1, 200)"],
  ['mysql', 'SELECT 1 AS baseline'],
  [
    'mysql',
    `SELECT ${Array.from({ length: 30 }, (_, i) => `REPEAT('x', 16000000) AS c${i}`).join(', ')}`,
  ],
  ['mysql', "SELECT REPEAT('y', 100000) AS v FROM seq_1_to_200"],
];

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function measure(engine, sql) {
  const url = engine === 'postgres' ? PG_URL : MYSQL_URL;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--allow', engine === 'postgres' ? 'public.*' : 'mysql.*'],
    env: { PATH: process.env.PATH ?? '', SQLWARDEN_DSN: url, SQLWARDEN_LOG_LEVEL: 'error' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'wide-values-bench', version: '1' });
  await client.connect(transport);
  const pid = transport.pid;
  const started = performance.now();
  let answer;
  try {
    const result = await client.callTool({ name: 'query_read', arguments: { sql } }, undefined, {
      timeout: 120_000,
    });
    const content = result.structuredContent;
    answer = result.isError
      ? `error ${content.error.code}`
      : `${content.rowCount} rows${content.truncated ? `, truncated (${content.truncatedReason})` : ''}`;
  } catch (error) {
    answer = `failed: ${String(error).slice(0, 80)}`;
  }
  const ms = performance.now() - started;
  const alive =
    pid !== null &&
    (() => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    })();
  const peak = alive ? peakRssMb(pid) : Number.NaN;
  await client.close();
  return { answer, ms, peak, alive };
}

const rows = [];
for (const [engine, sql] of CASES) {
  const { answer, ms, peak, alive } = await measure(engine, sql);
  const shown = sql.length > 70 ? `${sql.slice(0, 67)}...` : sql;
  rows.push({ engine, sql: shown, answer, ms, peak, alive });
  console.log(
    `${engine.padEnd(9)} ${shown.padEnd(72)} ${answer.padEnd(32)} ${ms.toFixed(0).padStart(6)} ms  peak RSS ${Number.isNaN(peak) ? '   n/a' : peak.toFixed(0).padStart(5)} MB${alive ? '' : '  (process died)'}`,
  );
}
const over = rows.filter((r) => !(r.peak < TARGET_MB));
console.log(
  over.length === 0
    ? `\nEvery query stayed under ${TARGET_MB} MB peak RSS (target met).`
    : `\n${over.length} queries at or over ${TARGET_MB} MB peak RSS (target missed).`,
);
