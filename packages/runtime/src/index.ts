// Public API of @sqlwarden/runtime: anything exported here is a contract
// other packages and users rely on (pinned by src/index.test.ts). Named exports only.

export type {
  ConfigResult,
  NormalizedConfig,
  NormalizedPrincipal,
  NormalizedSource,
} from './config/load.js';
export {
  assertConfig,
  loadConfigFile,
  parseConfig,
  validateConfig,
} from './config/load.js';
export type { ParsedConfig, RawConfig } from './config/schema.js';
export { ConfigSchema } from './config/schema.js';
export type { UrlKind } from './config/url.js';
export { kindOfUrl, supportedSchemes } from './config/url.js';
export { createMcpServer, describeTool, VERSION, visibleTools } from './mcp.js';
export type { Runtime, RuntimeOptions } from './runtime.js';
export { createRuntime } from './runtime.js';
