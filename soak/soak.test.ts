import { expect, it } from 'vitest';
import { runSoak } from './soak.mjs';

// The soak's 60-second version (`pnpm soak` runs it for longer): every
// promise of the report holds (docs/deployment.md).
it('two replicas, Redis, PgBouncer and PostgreSQL under faults: nothing lost, nothing leaked, limits held', async () => {
  const report = await runSoak({ seconds: 60 });
  console.log(JSON.stringify(report, null, 2));
  expect(report.lost, JSON.stringify(report.lostDetails)).toBe(0);
  expect(report.answered).toBeGreaterThan(0);
  expect(report.checks).toEqual(
    Object.fromEntries(Object.keys(report.checks).map((k) => [k, true])),
  );
}, 240_000);
