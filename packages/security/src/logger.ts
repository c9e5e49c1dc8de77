import { serializeError } from '@sqlwarden/core';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { scrubSecrets } from './secrets.js';
import { turnBatched } from './turn-batched.js';

/**
 * The operational logger: pino JSON on stderr (never stdout, which is the
 * MCP channel on stdio). Three layers keep SQL, values and credentials out:
 *   1. redact paths: fields named like SQL, parameters or credentials are
 *      censored whatever object they arrive in;
 *   2. the error serializer (core's `serializeError`, the one every
 *      adapter uses too) keeps an error's class, codes and stack frames,
 *      never its message (driver messages quote SQL and values);
 *   3. every output line is scrubbed of registered secret values.
 */

export const REDACT_PATHS = [
  'sql',
  'query',
  'text',
  'params',
  'parameters',
  'values',
  'password',
  'secret',
  'token',
  'dsn',
  'connectionString',
  'authorization',
  'cookie',
  '*.sql',
  '*.query',
  '*.text',
  '*.params',
  '*.parameters',
  '*.values',
  '*.password',
  '*.secret',
  '*.token',
  '*.dsn',
  '*.connectionString',
  '*.authorization',
  '*.cookie',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export type LogDestination = 'stderr' | { readonly file: string } | DestinationStream;

export interface LoggerFactoryOptions {
  readonly name?: string;
  readonly level?: LoggerOptions['level'];
  readonly destination?: LogDestination;
  /** Fixed fields on every line. */
  readonly base?: Record<string, string>;
  /**
   * Censor fields by name (default true). Only a logger whose every object
   * is built from an allow-list (the audit sink) may turn it off.
   */
  readonly redactPaths?: boolean;
}

/**
 * stderr and files get synchronous writes batched per event-loop turn (see
 * turn-batched.ts): one system call per turn, nothing held past the turn.
 */
export function resolveDestination(destination: LogDestination = 'stderr'): DestinationStream {
  if (destination === 'stderr') return turnBatched(pino.destination({ dest: 2, sync: true }));
  if ('file' in destination) {
    return turnBatched(
      pino.destination({ dest: destination.file, mkdir: true, append: true, sync: true }),
    );
  }
  return destination;
}

export function safeLoggerOptions(options: LoggerFactoryOptions): LoggerOptions {
  return {
    name: options.name ?? 'sqlwarden',
    level: options.level ?? 'info',
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.redactPaths !== false && { redact: { paths: REDACT_PATHS, censor: '[redacted]' } }),
    serializers: { err: serializeError, error: serializeError },
    hooks: { streamWrite: scrubSecrets },
  };
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  return pino(safeLoggerOptions(options), resolveDestination(options.destination));
}

/** The one error serializer of every operator log (`@sqlwarden/core`), re-exported for this package's users. */
export { serializeError };
