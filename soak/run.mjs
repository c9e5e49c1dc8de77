/**
 * `pnpm soak`: the soak (soak.mjs) for --seconds (default 300, at most
 * 600), loopback only; prints the report and exits 1 when a check failed.
 */
import { parseArgs } from 'node:util';
import { runSoak } from './soak.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    'max-calls': { type: 'string', default: '500000' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 20 || seconds > 600) {
  console.error('--seconds: from 20 to 600');
  process.exit(2);
}
const report = await runSoak({
  seconds,
  maxCalls: Number(values['max-calls']),
  log: (line) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`),
});
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(
    `soak: ${report.windowS} s, two replicas, Redis, PgBouncer (transaction), PostgreSQL`,
  );
  console.log(`  calls sent         ${report.sent}`);
  console.log(`  answered           ${report.answered}`);
  console.log(`  cleanly failed     ${JSON.stringify(report.cleanlyFailed)}`);
  console.log(
    `  lost               ${report.lost}${report.lost > 0 ? ` ${JSON.stringify(report.lostDetails)}` : ''}`,
  );
  console.log(`  clients killed     ${report.clientKills}`);
  console.log(
    `  RSS (MiB)          start ${report.rssMiB.start}, middle ${report.rssMiB.middle}, end ${report.rssMiB.end}; every 5%: ${report.rssMiB.series.join(' ')}`,
  );
  console.log(
    `  connections        baseline ${JSON.stringify(report.connections.baseline)}, end ${JSON.stringify(report.connections.after)}`,
  );
  console.log(`  audit lines        ${report.auditLines} (tool answers ${report.toolAnswers})`);
  console.log(
    `  limits             list_tables granted ${report.limits.listTablesGranted} of at most ${report.limits.bucketBound}; peak slots ${report.limits.peakSlots} of ${report.limits.peakSlots <= 8 ? 8 : '8 (EXCEEDED)'}`,
  );
  console.log(
    `  faults             ${report.events
      .filter((e) => !e.fault.startsWith('rss'))
      .map((e) => `${e.atS}s ${e.fault}`)
      .join('; ')}`,
  );
  for (const [code, message] of Object.entries(report.messages))
    console.log(`  ${code.padEnd(18)} ${message}`);
  if (report.replicaErrors.length > 0)
    console.log(
      `  replica errors     ${report.replicaErrors.length} (first: ${report.replicaErrors[0]})`,
    );
  for (const [check, held] of Object.entries(report.checks))
    console.log(`  ${held ? 'ok  ' : 'FAIL'} ${check}`);
}
process.exit(report.ok ? 0 : 1);
