/**
 * The messages between the adapter (the host, in the server's process) and
 * its ODBC worker process (worker.ts), over Node's IPC channel.
 *
 * Every request carries an id; the worker answers it once (`ok`, `err`),
 * except a read, which answers with chunks: the first chunk answers the
 * `read`, each later one a `more` the host sends only while the call's
 * budget wants rows. So the worker never runs ahead of what the host will
 * keep: at most one chunk (and the driver's fetch buffer) is in flight.
 */

/** What the worker and the driver are told about a source's driver. */
export type OdbcProfile = 'connx' | 'postgres' | 'mariadb' | 'generic';

/** How much a chunk may hold: rows, and their bytes as core's `rowBytes` counts them. */
export interface ChunkWant {
  readonly rows: number;
  /** A chunk stops growing past this many bytes (one IPC message stays small). */
  readonly bytes: number;
  /**
   * The bytes the call's budget still takes: a row that would pass them is
   * never sent (the chunk says `over`), so the host holds no more than the
   * call may receive, whatever one value's size.
   */
  readonly budgetBytes: number;
}

export type HostMessage =
  | {
      readonly t: 'open';
      readonly id: number;
      readonly conn: string;
      readonly connectionString: string;
      /** Statements of sqlwarden's own run once the connection is open (the session's read-only mode). */
      readonly setup: readonly string[];
    }
  | {
      readonly t: 'read';
      readonly id: number;
      readonly conn: string;
      readonly sql: string;
      readonly values: readonly unknown[];
      /** Rows per SQLFetch (1 for drivers whose block fetch loses rows). */
      readonly fetchSize: number;
      /** The statement's time limit in whole seconds for SQL_ATTR_QUERY_TIMEOUT, 0 for none. */
      readonly timeoutSeconds: number;
      /** Right-trim fixed-width CHAR values. */
      readonly trimChar: boolean;
      readonly want: ChunkWant;
    }
  | { readonly t: 'more'; readonly id: number; readonly want: ChunkWant }
  | { readonly t: 'stop'; readonly id: number }
  | {
      readonly t: 'catalog';
      readonly id: number;
      readonly conn: string;
      readonly fn: 'tables' | 'columns' | 'primaryKeys' | 'foreignKeys';
      readonly args: ReadonlyArray<string | null>;
    }
  | {
      /**
       * A write transaction: autocommit off (SQLSetConnectAttr), then the
       * profile's statements that make this transaction writable in a
       * read-only session (`SET TRANSACTION READ WRITE`).
       */
      readonly t: 'begin';
      readonly id: number;
      readonly conn: string;
      readonly setup: readonly string[];
    }
  | {
      /** One INSERT, UPDATE or DELETE in the open transaction: answered with the rows it affected. */
      readonly t: 'execute';
      readonly id: number;
      readonly conn: string;
      readonly sql: string;
      readonly values: readonly unknown[];
      readonly timeoutSeconds: number;
    }
  /** SQLEndTran, then autocommit on again. */
  | { readonly t: 'commit' | 'rollback'; readonly id: number; readonly conn: string }
  | { readonly t: 'cancel'; readonly id: number; readonly conn: string }
  /** Answered at once by the worker's event loop: whether it is alive at all. */
  | { readonly t: 'alive'; readonly id: number }
  | { readonly t: 'close'; readonly id: number; readonly conn: string }
  | {
      /** Test faults, honoured only when the worker runs with SQLWARDEN_ODBC_WORKER_FAULTS=1. */
      readonly t: 'fault';
      readonly id: number;
      readonly conn: string;
      readonly kind: 'hang' | 'segfault' | 'close-during-execute';
      readonly sql?: string;
    };

/** A column of a result, as the adapter reports it. */
export interface WireColumn {
  readonly name: string;
  readonly type: string;
}

/** An ODBC diagnostic record (SQLGetDiagRec): the SQLSTATE, the native code and the driver's text. */
export interface WireDiagnostic {
  readonly state: string;
  readonly code: number;
  readonly message: string;
}

export interface WireError {
  readonly message: string;
  readonly diagnostics: readonly WireDiagnostic[];
  /**
   * The driver says the connection is dead (SQL_ATTR_CONNECTION_DEAD, read
   * once the failed operation settled): whatever its SQLSTATE (psqlODBC
   * reports a session ended by the server as HY000), it is a lost connection.
   */
  readonly connectionDead?: boolean;
  /**
   * A decimal of this result column arrived from the driver as a double
   * that may have lost digits (values.ts): the read is refused.
   */
  readonly inexactColumn?: string;
}

export type WorkerMessage =
  | { readonly t: 'ok'; readonly id: number; readonly value?: unknown }
  | { readonly t: 'err'; readonly id: number; readonly error: WireError }
  | {
      readonly t: 'chunk';
      readonly id: number;
      readonly columns: readonly WireColumn[];
      readonly rows: unknown[][];
      /** No rows follow: the cursor is closed. */
      readonly done: boolean;
      /** The next row would pass `budgetBytes`: it was not sent. */
      readonly over?: boolean;
    };
