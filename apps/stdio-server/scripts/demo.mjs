// The one-minute demo: starts `sqlwarden-stdio --demo` (the embedded demo
// database, nothing to install) as a child process, talks to it with the
// MCP SDK client over stdio as a real client would, and prints a transcript.
//
//   pnpm demo
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

// The published entry (the bin), which starts the demo database while the
// server's modules load.
const bin = fileURLToPath(new URL('../bin/sqlwarden-stdio.js', import.meta.url));
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [bin, '--demo'],
  env: { ...process.env, SQLWARDEN_LOG_LEVEL: 'warn' },
  stderr: 'ignore', // the server's logs and audit lines go to its stderr
});
const client = new Client({ name: 'sqlwarden-demo', version: '1.0.0' });

const out = (text = '') => process.stdout.write(`${text}\n`);
// `pnpm demo | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const indent = (text) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

async function step(title, tool, args) {
  out(`\n> ${tool} ${JSON.stringify(args)}    # ${title}`);
  const result = await client.callTool({ name: tool, arguments: args });
  const text = result.content.map((c) => c.text).join('\n');
  out(indent(result.isError ? `ERROR ${text}` : text));
  return result;
}

const started = Date.now();
await client.connect(transport);
out(
  `Connected to ${client.getServerVersion().name} ${client.getServerVersion().version} in ${Date.now() - started} ms (embedded PostgreSQL demo).`,
);

const { tools } = await client.listTools();
out('\n> tools/list');
for (const tool of tools) {
  const hints = Object.entries(tool.annotations ?? {})
    .filter(([k, v]) => k.endsWith('Hint') && v === true)
    .map(([k]) => k.replace('Hint', ''));
  out(`    ${tool.name.padEnd(15)} ${hints.join(', ')}`);
}

await step('what may I read?', 'list_tables', {});
await step('what does an order look like?', 'describe_table', { table: 'shop.orders' });
await step('a real question, with a bound parameter', 'query_read', {
  sql: `SELECT c.name, c.country, count(DISTINCT o.id) AS orders, sum(i.quantity * i.unit_price) AS revenue
          FROM shop.customers c
          JOIN shop.orders o ON o.customer_id = c.id
          JOIN shop.order_items i ON i.order_id = o.id
         WHERE o.status <> $1
         GROUP BY c.name, c.country
         ORDER BY revenue DESC
         LIMIT 5`,
  params: ['cancelled'],
});
await step('a write attempt: refused, this server is read-only', 'query_read', {
  sql: "DELETE FROM shop.orders WHERE status = 'pending'",
});
await step('the stacked attack that broke other servers', 'query_read', {
  sql: 'SELECT 1; COMMIT; DROP TABLE shop.orders',
});
await step('a file read hidden in FROM', 'query_read', {
  sql: "SELECT * FROM pg_read_file('/etc/passwd')",
});
await step('a table this principal was not granted', 'query_read', {
  sql: 'SELECT * FROM internal.api_keys',
});
await step('...and the orders are all still there', 'query_read', {
  sql: 'SELECT count(*) AS orders FROM shop.orders',
});

await client.close();
out(
  "\nEvery call above left one audit line on the server's stderr (fingerprints and counts, never SQL text).",
);
