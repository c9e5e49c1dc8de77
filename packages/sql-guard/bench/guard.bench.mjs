// Latency of checkRead per dialect, over the corpus's allow entries (the
// project's own in corpus/, plus the public one beside the repository when it
// is there) and a set of typical analytic queries. There is no verdict cache:
// every call lexes, parses and walks its statement ("cold").
//
//   pnpm --filter @sqlwarden/sql-guard bench
import { existsSync, readFileSync } from 'node:fs';
import nodeSqlParser from 'node-sql-parser/build/mysql.js';
import { checkRead, createGuard, loadSqlGuard } from '../dist/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const readJsonl = (url) =>
  readFileSync(url, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const sharedCorpus = new URL('../../../../shared/corpus/sql-guard-public.jsonl', import.meta.url);
const corpus = [
  ...readJsonl(new URL('../corpus/sqlwarden.jsonl', import.meta.url)),
  ...readJsonl(new URL('../corpus/analyst.jsonl', import.meta.url)),
  ...(existsSync(sharedCorpus) ? readJsonl(sharedCorpus) : []),
];
const analyst = corpus.filter((e) => e.category === 'analyst');

const ANALYTIC = [
  `SELECT c.id, c.name, count(o.id) AS orders, sum(o.total) AS revenue
     FROM customers c JOIN orders o ON o.customer_id = c.id
    WHERE o.created_at >= DATE '2024-01-01' AND o.status IN ('paid', 'shipped')
    GROUP BY c.id, c.name HAVING sum(o.total) > 1000 ORDER BY revenue DESC LIMIT 50`,
  `WITH monthly AS (
     SELECT date_trunc('month', created_at) AS month, sum(total) AS revenue FROM orders GROUP BY 1
   ), ranked AS (
     SELECT month, revenue, rank() OVER (ORDER BY revenue DESC) AS r FROM monthly
   ) SELECT * FROM ranked WHERE r <= 12 ORDER BY month`,
  `SELECT o.id, o.total, avg(o.total) OVER (PARTITION BY o.customer_id ORDER BY o.created_at
          ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS moving_avg,
          lag(o.total) OVER (PARTITION BY o.customer_id ORDER BY o.created_at) AS previous
     FROM orders o WHERE o.customer_id IN (SELECT id FROM customers WHERE region = 'EU')`,
  `SELECT p.category, count(DISTINCT oi.order_id) AS orders, sum(oi.quantity * oi.unit_price) AS sales
     FROM order_items oi JOIN products p ON p.id = oi.product_id JOIN orders o ON o.id = oi.order_id
    WHERE o.status <> 'cancelled' GROUP BY p.category ORDER BY sales DESC`,
  `SELECT c.region, CASE WHEN sum(o.total) > 10000 THEN 'high' WHEN sum(o.total) > 1000 THEN 'mid' ELSE 'low' END AS band
     FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.region`,
  'SELECT * FROM orders WHERE id = 42',
];

const OPTIONS = {
  postgres: { dialect: 'postgres', defaultSchema: 'public', allowedTables: ['public.*'] },
  mysql: { dialect: 'mysql', defaultSchema: 'app', allowedTables: ['app.*'] },
  odbc: { dialect: 'odbc', defaultSchema: 'public', allowedTables: ['public.*'] },
};

function statementsFor(dialect) {
  const corpusDialect = dialect === 'odbc' ? 'postgres' : dialect;
  const allows = corpus
    .filter((e) => e.expect === 'allow' && (e.dialect === 'any' || e.dialect === corpusDialect))
    .map((e) => e.sql);
  return [...allows, ...ANALYTIC].filter((sql) => checkRead(sql, OPTIONS[dialect]).ok);
}

// Which MySQL analyst queries node-sql-parser reads (the rest go on to the
// second parser, sqlparser-rs, after node-sql-parser's failed attempt).
const nsp = new nodeSqlParser.Parser();
function firstParserReads(sql) {
  try {
    nsp.astify(sql.replace(/;[^;]*$/, ''), { database: 'MySQL' });
    return true;
  } catch {
    return false;
  }
}
const mysqlAnalyst = analyst.filter((e) => e.dialect === 'mysql').map((e) => e.sql);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

await loadSqlGuard();
console.log(
  `checkRead latency, ${ROUNDS} rounds over each set, no cache (Node ${process.version}; public corpus ${existsSync(sharedCorpus) ? 'included' : 'absent'})`,
);
for (const dialect of ['postgres', 'mysql', 'odbc']) {
  for (const [label, set] of [
    ['corpus allow + analytic', statementsFor(dialect)],
    ['analytic only', ANALYTIC.filter((sql) => checkRead(sql, OPTIONS[dialect]).ok)],
    [
      'analyst queries',
      analyst
        .filter((e) => e.dialect === (dialect === 'odbc' ? 'postgres' : dialect))
        .map((e) => e.sql)
        .filter((sql) => checkRead(sql, OPTIONS[dialect]).ok),
    ],
    ...(dialect === 'mysql'
      ? [
          ['analyst, 1st parser', mysqlAnalyst.filter((sql) => firstParserReads(sql))],
          ['analyst, 2nd parser', mysqlAnalyst.filter((sql) => !firstParserReads(sql))],
        ]
      : []),
  ]) {
    for (let i = 0; i < 50; i += 1) for (const sql of set) checkRead(sql, OPTIONS[dialect]);
    const samples = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const sql of set) {
        const t0 = performance.now();
        checkRead(sql, OPTIONS[dialect]);
        samples.push((performance.now() - t0) * 1000);
      }
    }
    samples.sort((a, b) => a - b);
    console.log(
      `  ${dialect.padEnd(8)} ${label.padEnd(24)} n=${String(set.length).padStart(3)}  p50 ${percentile(samples, 50).toFixed(1).padStart(6)} us  p99 ${percentile(samples, 99).toFixed(1).padStart(7)} us`,
    );
  }
}

// The verdict cache, reported separately: the same sets through createGuard,
// each statement with fresh literal values on every call (so only the
// cache of verdicts by shape can help, not a cache of texts).
console.log('\ncreateGuard with its verdict cache (warm), fresh literals on every call');
const withLiterals = (sql, i) =>
  sql.replace(/\b(\d+)\b(?![.\w])/g, (m) => String(Number(m) + (i % 97)));
for (const dialect of ['postgres', 'mysql', 'odbc']) {
  const set = statementsFor(dialect);
  const guard = createGuard(OPTIONS[dialect]);
  for (let i = 0; i < 50; i += 1) for (const sql of set) guard.checkRead(withLiterals(sql, i));
  const before = guard.stats();
  const samples = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const sql of set) {
      const text = withLiterals(sql, round);
      const t0 = performance.now();
      guard.checkRead(text);
      samples.push((performance.now() - t0) * 1000);
    }
  }
  const after = guard.stats();
  samples.sort((a, b) => a - b);
  const hits = after.hits - before.hits;
  const total = hits + (after.misses - before.misses) + (after.uncached - before.uncached);
  console.log(
    `  ${dialect.padEnd(8)} ${'corpus allow + analytic'.padEnd(24)} n=${String(set.length).padStart(3)}  p50 ${percentile(samples, 50).toFixed(1).padStart(6)} us  p99 ${percentile(samples, 99).toFixed(1).padStart(7)} us  (${Math.round((hits / total) * 100)}% cache hits; the rest have no key)`,
  );
}
