import { describeAdapterConformance, postgresTestUrl } from '@sqlwarden/testing';
import { postgresConformanceTarget } from './conformance-target.js';

// The adapter conformance suite (docs/conformance.md) against the real
// PostgreSQL of this machine (SQLWARDEN_TEST_PG_URL), in schemas of its own,
// dropped afterwards. Its fault suite runs on a cluster of its own
// (createThrowawayPostgres), which it restarts: the shared server never is.

describeAdapterConformance(
  postgresConformanceTarget({
    name: 'PostgreSQL',
    connection: () => ({ connectionString: postgresTestUrl() }),
  }),
);
