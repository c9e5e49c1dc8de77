// Public API of @sqlwarden/runtime: anything exported here is a contract
// other packages and users rely on (pinned by src/index.test.ts). Named exports only.

export type { AdapterCatalog, AdapterPackage } from './adapters.js';
export { adapterCatalog, BUILT_IN_ADAPTERS } from './adapters.js';
export type {
  ConfigResult,
  LoadOptions,
  NormalizedConfig,
  NormalizedPrincipal,
  NormalizedSource,
} from './config/load.js';
export { assertConfig, loadConfig, loadConfigFile, parseConfig } from './config/load.js';
export type { HttpTransportConfig, ParsedConfig, RawConfig } from './config/schema.js';
export { ConfigSchema } from './config/schema.js';
export { kindOfUrl, supportedSchemes } from './config/url.js';
export type { McpServerOptions } from './mcp.js';
export { createMcpServer, describeTool, MCP_METHODS, VERSION, visibleTools } from './mcp.js';
export type { Runtime, RuntimeOptions, SessionGrants } from './runtime.js';
export { createRuntime } from './runtime.js';
