import { describe, expect, it } from 'vitest';
import { DB_SYSTEM_NAMES, SourceTelemetry, sourceEndpoint } from './telemetry.js';

// The kit's telemetry without an SDK registered, as every server without
// telemetry runs it. With the SDK, the spans and metrics are proved end to
// end against a real OTLP receiver (apps/*/test/telemetry.e2e.test.ts).

describe('SourceTelemetry', () => {
  it('starts no span outside a traced call: nothing is made when telemetry is off', () => {
    const telemetry = new SourceTelemetry({
      dialect: 'postgres',
      source: 'main',
      pool: { used: () => 0, idle: () => 0 },
    });
    expect(telemetry.start('read')).toBeUndefined();
    expect(telemetry.start('write')).toBeUndefined();
    // Recording a wait on the API's no-op instruments is harmless, and so is closing twice.
    telemetry.waited(0.001, undefined);
    telemetry.close();
    telemetry.close();
  });

  it('names every dialect by the semantic conventions’ db.system.name', () => {
    expect(DB_SYSTEM_NAMES).toEqual({ postgres: 'postgresql', mysql: 'mysql', odbc: 'other_sql' });
  });
});

describe('sourceEndpoint', () => {
  it('takes host, port and database from the fields or the URL, never the credentials', () => {
    expect(
      sourceEndpoint({ url: 'postgres://app:s3cret@db.internal:6432/shop?sslmode=require' }),
    ).toEqual({ address: 'db.internal', port: 6432, namespace: 'shop' });
    expect(sourceEndpoint({ host: 'h', port: 5433, database: 'd', url: 'postgres://x/y' })).toEqual(
      { address: 'h', port: 5433, namespace: 'd' },
    );
    expect(sourceEndpoint({ url: 'not a url' })).toEqual({});
    expect(JSON.stringify(sourceEndpoint({ url: 'mysql://root:s3cret@h/db' }))).not.toContain(
      's3cret',
    );
  });
});
