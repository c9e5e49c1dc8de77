// Test support for the workspace's suites. Private: never published.

/** A pino destination that keeps what is written, for reading log bytes in tests. */
export class Capture {
  readonly chunks: string[] = [];

  write(chunk: string): void {
    this.chunks.push(chunk);
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** Every line written, parsed as JSON. */
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** Where the integration tests find PostgreSQL (README: "Tests"). */
export function postgresTestUrl(): string {
  return process.env.SQLWARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Where the integration tests find MySQL or MariaDB (README: "Tests"). */
export function mysqlTestUrl(): string {
  return process.env.SQLWARDEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
}
