import { Capture } from '@sqlwarden/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { auditMessage, createAuditSink, sanitizeAuditEvent } from './audit.js';
import { clearSecretRegistry, Secret } from './secrets.js';

afterEach(() => clearSecretRegistry());

const event = {
  event: 'tool_call' as const,
  requestId: 'req-1',
  sessionId: 'sess-1',
  principalId: 'alice',
  transport: 'stdio' as const,
  tool: 'query_read',
  decision: 'allow' as const,
  stage: 'execute' as const,
  fp: '3a1c9f82a2d1',
  rows: 42,
  durationMs: 1.5,
};

describe('sanitizeAuditEvent', () => {
  it('keeps every well-formed audit field', () => {
    expect(sanitizeAuditEvent(event)).toEqual(event);
  });

  it('drops fields an audit event does not have', () => {
    const dirty = { ...event, sql: 'SELECT secret', params: ['4111'], password: 'pw', msg: 'x' };
    expect(sanitizeAuditEvent(dirty)).toEqual(event);
  });

  it('replaces malformed ids and drops malformed values, so text cannot ride in a field', () => {
    const safe = sanitizeAuditEvent({
      ...event,
      principalId: "alice' OR 1=1 --",
      tool: 'SELECT * FROM users',
      fp: 'SELECT 1',
      rows: 'many',
      code: 'SELECT',
      stage: 'anything',
      missing: 'read:x:y z',
      durationMs: -1,
    });
    expect(safe).toEqual({
      ...event,
      principalId: '[redacted]',
      tool: undefined,
      fp: undefined,
      rows: undefined,
      stage: 'audit',
      durationMs: 0,
    });
    expect(JSON.stringify(safe)).not.toMatch(/SELECT|OR 1=1/);
  });

  it('keeps the column policies of a call and drops anything else riding in them', () => {
    const applied = [
      { table: 'hr.people', column: 'email', action: 'mask' },
      { table: 'hr.people', column: 'ssn', action: 'deny' },
    ];
    const safe = sanitizeAuditEvent({
      ...event,
      columnPolicies: [
        ...applied,
        { table: 'hr.people', column: 'x', action: 'allow' },
        { table: 'hr.people', column: 'a\nb', action: 'mask' },
        { ...applied[0], value: '123-45-6789' },
        '123-45-6789',
      ],
    });
    expect(safe.columnPolicies).toEqual([...applied, applied[0]]);
    expect(JSON.stringify(safe)).not.toContain('6789');
    expect(sanitizeAuditEvent({ ...event, columnPolicies: 'ssn' })).not.toHaveProperty(
      'columnPolicies',
    );
  });

  it('drops a tool name the registry does not hold, when it knows the registry', () => {
    const tools = new Set(['query_read']);
    expect(sanitizeAuditEvent({ ...event, tool: 'select' }, { tools })).not.toHaveProperty('tool');
    expect(sanitizeAuditEvent(event, { tools })).toHaveProperty('tool', 'query_read');
  });

  it('accepts anything at all without throwing', () => {
    for (const raw of [undefined, null, 'x', 1, [], Object.create(null)]) {
      expect(sanitizeAuditEvent(raw)).toMatchObject({
        event: 'tool_call',
        requestId: '[redacted]',
      });
    }
  });
});

describe('auditMessage', () => {
  it('writes the human form of a successful query', () => {
    expect(auditMessage(sanitizeAuditEvent(event))).toBe('Query OK fp=3a1c9f82a2d1 rows=42');
    const write = { ...event, tool: 'execute_write', rows: 3 };
    expect(auditMessage(sanitizeAuditEvent({ ...write, committed: true }))).toBe(
      'Write committed fp=3a1c9f82a2d1 rows=3',
    );
    expect(auditMessage(sanitizeAuditEvent({ ...write, committed: false }))).toBe(
      'Write dry run, rolled back fp=3a1c9f82a2d1 rows=3',
    );
    expect(sanitizeAuditEvent({ ...write, committed: 'yes' })).not.toHaveProperty('committed');
  });

  it('names the code, tool and stage of a denial', () => {
    const denied = sanitizeAuditEvent({
      ...event,
      decision: 'deny',
      code: 'FORBIDDEN',
      stage: 'authorization',
      rows: undefined,
    });
    expect(auditMessage(denied)).toBe(
      'Denied FORBIDDEN tool=query_read fp=3a1c9f82a2d1 stage=authorization',
    );
  });

  it('says what became of a write confirmation, and drops anything else in its place', () => {
    const write = { ...event, tool: 'execute_write', rows: 3 };
    const requested = sanitizeAuditEvent({ ...write, committed: false, confirmation: 'requested' });
    expect(requested.confirmation).toBe('requested');
    expect(auditMessage(requested)).toBe(
      'Write awaiting confirmation, dry run rolled back fp=3a1c9f82a2d1 rows=3',
    );
    const accepted = sanitizeAuditEvent({ ...write, committed: true, confirmation: 'accepted' });
    expect(auditMessage(accepted)).toBe(
      'Write committed fp=3a1c9f82a2d1 rows=3 confirmation=accepted',
    );
    const declined = sanitizeAuditEvent({
      ...write,
      rows: undefined,
      decision: 'deny',
      code: 'CONFIRMATION_DECLINED',
      stage: 'execute',
      confirmation: 'declined',
    });
    expect(auditMessage(declined)).toBe(
      'Denied CONFIRMATION_DECLINED tool=execute_write fp=3a1c9f82a2d1 confirmation=declined stage=execute',
    );
    expect(sanitizeAuditEvent({ ...write, confirmation: 'UPDATE x SET y = 1' })).not.toHaveProperty(
      'confirmation',
    );
  });
});

describe('createAuditSink', () => {
  it('writes one JSON line per event with the human message', async () => {
    const capture = new Capture();
    const sink = createAuditSink({ destination: capture });
    sink.record(event);
    await sink.flush();
    const [line] = capture.lines();
    expect(line).toMatchObject({
      ...event,
      kind: 'audit',
      msg: 'Query OK fp=3a1c9f82a2d1 rows=42',
    });
    expect(capture.lines()).toHaveLength(1);
  });

  it('scrubs registered secret values from the bytes it writes', async () => {
    const capture = new Capture();
    const secret = new Secret('DB_PASSWORD', 'alice-db-pw-7781');
    const sink = createAuditSink({ destination: capture });
    sink.record({ ...event, principalId: secret.reveal() });
    await sink.flush();
    expect(capture.text).not.toContain('alice-db-pw-7781');
    expect(capture.lines()[0]).toMatchObject({ principalId: '[redacted]' });
  });
});
