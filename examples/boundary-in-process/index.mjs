// The execution boundary in process: one tool, a default-deny capability
// policy, a rate limit and the audit log on stderr. Results go to stdout.
//
//   node examples/boundary-in-process/index.mjs
import {
  createToolRegistry,
  DEFAULT_LIMITS,
  defineTool,
  executeToolBoundary,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import { z } from 'zod';

const hello = defineTool({
  name: 'hello',
  title: 'Hello',
  description: 'Greets someone by name.',
  kind: 'read',
  inputSchema: z.strictObject({ name: z.string().min(1).max(50) }),
  // Only the tool capability is needed; SQL tools add read:<source>:<schema>.<table>.
  requires: () => ({ ok: true, capabilities: [], prepared: undefined }),
  handler: async ({ name }) => ({ text: `Hello, ${name}!` }),
});

const audit = createAuditSink({ tools: ['hello'] });
const deps = {
  registry: createToolRegistry([hello]),
  authorizer: new CapabilityPolicy({ roles: { guest: ['tool:hello'] } }),
  quota: createQuotaGate({ policy: { perPrincipal: { rate: { burst: 3, perSecond: 1 } } } }),
  audit,
  limits: DEFAULT_LIMITS,
  readOnly: true,
  writesEnabled: false,
};

const session = (principalId, roles) => ({
  sessionId: 'example-session',
  principalId,
  capabilities: [],
  roles,
  transport: 'in-process',
  readOnly: true,
});

const calls = [
  ['a granted call', session('ada', ['guest']), 'hello', { name: 'Ada' }],
  ['bad arguments', session('ada', ['guest']), 'hello', { name: 42 }],
  ['an unknown tool', session('ada', ['guest']), 'drop_everything', {}],
  ['no grant', session('mallory', []), 'hello', { name: 'Mallory' }],
  ['no session', undefined, 'hello', { name: 'Nobody' }],
  ['within the burst', session('ada', ['guest']), 'hello', { name: 'Ada' }],
  ['within the burst', session('ada', ['guest']), 'hello', { name: 'Ada' }],
  ['over the rate limit', session('ada', ['guest']), 'hello', { name: 'Ada' }],
];

let n = 0;
for (const [label, context, tool, input] of calls) {
  n += 1;
  const result = await executeToolBoundary({ requestId: `req-${n}`, context, tool, input }, deps);
  process.stdout.write(`${label.padEnd(20)} -> ${result.content[0].text}\n`);
}
await audit.flush();
