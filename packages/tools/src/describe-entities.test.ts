import {
  type BoundaryDeps,
  createToolRegistry,
  DEFAULT_LIMITS,
  executeToolBoundary,
  type ToolCallResult,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import { Capture } from '@sqlwarden/testing';
import { describe, expect, it } from 'vitest';
import { describeEntitiesTool, type EntityDefinition } from './describe-entities.js';

// describe_entities through the real boundary and the real capability policy:
// it reads the configuration only, so no database is involved.

const ENTITIES: EntityDefinition[] = [
  {
    name: 'customer',
    source: 'legacy',
    schema: 'public',
    table: 'CUSTOMERS_VSAM',
    aliases: ['client', 'clients', 'account holder'],
    description: 'A person or company that buys from us.',
    columns: { CUST_NO: 'the customer number printed on invoices' },
  },
  {
    name: 'payroll',
    source: 'legacy',
    schema: 'hr',
    table: 'PAY_MASTER',
    aliases: ['salaries', 'wages'],
    description: 'What each employee is paid.',
    columns: {},
  },
];

const audit = new Capture();
const registry = createToolRegistry([describeEntitiesTool(ENTITIES)]);
const deps: BoundaryDeps = {
  registry,
  authorizer: new CapabilityPolicy({
    roles: {
      sales: ['tool:describe_entities', 'read:legacy:public.CUSTOMERS_VSAM'],
      hr: ['tool:describe_entities', 'read:legacy:*'],
      nothing: ['read:legacy:*'],
    },
  }),
  quota: createQuotaGate({ policy: {} }),
  audit: createAuditSink({ destination: audit, tools: registry.list().map((t) => t.name) }),
  limits: DEFAULT_LIMITS,
  readOnly: true,
  writesEnabled: false,
};

function call(role: string, input: unknown): Promise<ToolCallResult> {
  return executeToolBoundary(
    {
      requestId: `r-${role}`,
      context: {
        sessionId: `sess-${role}`,
        principalId: role,
        capabilities: [],
        roles: [role],
        transport: 'in-process',
        readOnly: true,
      },
      tool: 'describe_entities',
      input,
    },
    deps,
  );
}

const names = (result: ToolCallResult) =>
  (result.structuredContent as { entities: { name: string }[] }).entities.map((e) => e.name);

describe('describe_entities', () => {
  it('finds an entity by an alias, case-insensitively, with its table and column notes', async () => {
    const result = await call('hr', { query: 'Clients' });
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toEqual({
      entities: [
        {
          name: 'customer',
          source: 'legacy',
          table: 'public.CUSTOMERS_VSAM',
          aliases: ['client', 'clients', 'account holder'],
          description: 'A person or company that buys from us.',
          columns: { CUST_NO: 'the customer number printed on invoices' },
        },
      ],
    });
    expect(result.content).toEqual([
      {
        type: 'text',
        text: 'customer: legacy public.CUSTOMERS_VSAM\n  also: client, clients, account holder\n  A person or company that buys from us.\n  CUST_NO: the customer number printed on invoices',
      },
    ]);
  });

  it('matches the name and the description, every word of the query', async () => {
    expect(names(await call('hr', { query: 'PAYROLL' }))).toEqual(['payroll']);
    expect(names(await call('hr', { query: 'employee paid' }))).toEqual(['payroll']);
    expect(names(await call('hr', { query: 'employee invoices' }))).toEqual([]);
    expect(names(await call('hr', {}))).toEqual(['customer', 'payroll']);
  });

  it('answers only the entities whose table the principal may read', async () => {
    expect(names(await call('sales', {}))).toEqual(['customer']);
    const wages = await call('sales', { query: 'wages' });
    expect(names(wages)).toEqual([]);
    expect(wages.content).toEqual([{ type: 'text', text: 'No entity you can read matches.' }]);
  });

  it('is refused without tool:describe_entities, and audited', async () => {
    const result = await call('nothing', {});
    expect(result.structuredContent).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'describe_entities',
      principalId: 'nothing',
      decision: 'deny',
      code: 'FORBIDDEN',
    });
  });

  it('refuses a query over 200 characters', async () => {
    const result = await call('hr', { query: 'x'.repeat(201) });
    expect(result.structuredContent).toMatchObject({ error: { code: 'INVALID_INPUT' } });
  });
});
