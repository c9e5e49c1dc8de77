import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseConfig } from '@sqlwarden/runtime';
import { loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// docs/configuration.md is the reference operators write their files from.
// These tests pin it to the published JSON Schema (every key documented, no
// key that does not exist), and run its examples through the real loader.

const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const schemaPath = createRequire(import.meta.url).resolve(
  '@sqlwarden/runtime/sqlwarden.schema.json',
);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonSchema;

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
}

/** How the page writes the key of each map (a record in the schema). */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  sources: '<id>',
  roles: '<role>',
  principals: '<id>',
  'quotas.tools': '<tool>',
  tools: '<name>',
  'tools.<name>.parameters': '<param>',
  'principals.<id>.costGate': '<source>',
  'principals.<id>.database': '<source>',
  entities: '<name>',
  'entities.<name>.columns': '<column>',
  'transports.http.auth.oauth.principals': '<claim>',
  'transports.http.auth.oauth.scopes': '<scope>',
  'telemetry.headers': '<header>',
};

/** Every key path of the schema, e.g. `sources.<id>.pool.max`. */
function schemaPaths(node: JsonSchema, path: string, out: Set<string>): Set<string> {
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) {
    schemaPaths(branch, path, out);
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const next = path === '' ? key : `${path}.${key}`;
    out.add(next);
    schemaPaths(child, next, out);
  }
  if (typeof node.additionalProperties === 'object') {
    const placeholder = PLACEHOLDERS[path];
    if (placeholder === undefined) {
      throw new Error(`The map at "${path}" has no placeholder: add one here and in the page`);
    }
    const next = `${path}.${placeholder}`;
    out.add(next);
    schemaPaths(node.additionalProperties, next, out);
  }
  if (node.items !== undefined) schemaPaths(node.items, path, out);
  return out;
}

/** The part of the page under a `## ` heading, up to the next one. */
function section(title: string): string {
  const start = page.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`configuration.md has no "## ${title}" section`);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

/** The fenced blocks of a text, in order, with their language. */
function fences(text: string): Array<{ lang: string; body: string }> {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

/** Key paths of a parsed YAML document, maps written with their placeholders. */
function documentPaths(value: unknown, path: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) documentPaths(item, path, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const placeholder = PLACEHOLDERS[path];
      const name = placeholder ?? key;
      const next = path === '' ? name : `${path}.${name}`;
      out.add(next);
      documentPaths(inner, next, out);
    }
  }
  return out;
}

const noEnvironment = () => loadEnvironment({ env: {}, envFile: false });

describe('docs/configuration.md', () => {
  const keys = schemaPaths(schema, '', new Set());

  it('documents every key of the schema in its reference, and no key the schema lacks', () => {
    const documented = [...section('Reference').matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map(
      (m) => m[1],
    );
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...keys].sort());
  });

  it('gives a complete example that the loader accepts and that uses every key but $schema', async () => {
    const example = fences(section('Complete example')).find((f) => f.lang === 'yaml');
    if (example === undefined) throw new Error('the complete example is missing');
    const env = loadEnvironment({
      env: {
        SHOP_DATABASE_URL: 'postgres://sqlwarden_reader:example-password@db.internal/shop',
        WAREHOUSE_PASSWORD: 'example-password',
        WAREHOUSE_CA_PEM: '-----BEGIN CERTIFICATE-----',
        WAREHOUSE_CLIENT_CERT: '-----BEGIN CERTIFICATE-----',
        WAREHOUSE_CLIENT_KEY: '-----BEGIN PRIVATE KEY-----',
        LEGACY_ODBC: 'DSN=legacy;UID=sqlwarden_reader;PWD=example-password',
        REPORTING_TOKEN_SHA256: 'a'.repeat(64),
        SQLWARDEN_REDIS_URL: 'rediss://:example-password@redis.internal:6380',
        REDIS_CA_PEM: '-----BEGIN CERTIFICATE-----',
        OTLP_AUTHORIZATION: 'Bearer example-collector-token',
        SQLWARDEN_MASK_KEY: 'k'.repeat(48),
        CRM_DATABASE_URL: 'mysql://sqlwarden_reader:example-password@crm.internal/crm',
        CRM_LOCAL_PASSWORD: 'example-password',
      },
      envFile: false,
    });
    const result = await parseConfig(example.body, env);
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.config.stdioPrincipal).toBe('local');
    expect(result.config.sources.map((s) => s.id)).toEqual(['shop', 'warehouse', 'legacy', 'crm']);

    const used = documentPaths(parseYaml(example.body), '', new Set());
    // defaultCatalog needs three-part names throughout its source (and its
    // grants): docs/connx-names.md shows it, in an example loaded below.
    const elsewhere = new Set(['$schema', 'sources.<id>.defaultCatalog']);
    const unused = [...keys].filter((key) => !elsewhere.has(key) && !used.has(key));
    expect(unused).toEqual([]);
  });

  it('shows defaultCatalog and three-part names in connx-names.md, in an example the loader accepts', async () => {
    const connx = readFileSync(new URL('../../docs/connx-names.md', import.meta.url), 'utf8');
    const example = fences(connx).find((f) => f.lang === 'yaml');
    if (example === undefined) throw new Error('the CONNX example is missing');
    // The ODBC adapter checks its connection; the names are the runtime's to check.
    const result = await parseConfig(
      `${example.body}\nprincipals:\n  local:\n    roles: [analyst]\n`,
      loadEnvironment({
        env: { CONNX_ODBC: 'DSN=connx;UID=reader;PWD=example-password' },
        envFile: false,
      }),
    );
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.config.sources[0]).toMatchObject({
      dialect: 'odbc',
      defaultCatalog: 'daea_mainframe_vsam',
      tables: ['daea_mainframe_vsam.dbo.*', 'sales.dbo.orders'],
    });
    expect(keys.has('sources.<id>.defaultCatalog')).toBe(true);
  });

  it('quotes the errors the loader really reports for its bad examples', async () => {
    const blocks = fences(section('Errors'));
    let checked = 0;
    for (const [i, block] of blocks.entries()) {
      const output = blocks[i + 1];
      if (block.lang !== 'yaml' || output === undefined || output.lang !== 'text') continue;
      const lines = output.body.trimEnd().split('\n');
      const header = lines.indexOf('sqlwarden-stdio: the configuration has problems:');
      expect(header).toBeGreaterThanOrEqual(0);
      const quoted = lines.slice(header + 1).map((line) => line.replace(/^ {2}- /, ''));
      const result = await parseConfig(block.body, noEnvironment());
      expect(result.ok ? [] : result.problems).toEqual(quoted);
      checked += 1;
    }
    expect(checked).toBe(2);
  });

  it('names the published schema file by its export path', () => {
    expect(schemaPath.endsWith('sqlwarden.schema.json')).toBe(true);
    expect(page).toContain('@sqlwarden/runtime/sqlwarden.schema.json');
  });
});
