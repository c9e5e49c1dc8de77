import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts of a test certificate authority and a server certificate it signed. */
export interface TestCertificates {
  /** The CA's certificate (what a client verifies against). */
  readonly ca: string;
  /** The server's certificate, for the DNS name `localhost` only (no IP address). */
  readonly cert: string;
  readonly key: string;
  /** Another CA's certificate, which did not sign the server's. */
  readonly otherCa: string;
}

/**
 * Makes a CA and a server certificate for `localhost` with openssl (Debian's
 * openssl package). The certificate names no IP address, so a client that
 * connects to 127.0.0.1 and checks the host name must refuse it.
 */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-certs-'));
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    for (const name of ['ca', 'other']) {
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=sqlwarden test ${name} CA`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
      );
    }
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    return {
      ca: read('ca.crt'),
      cert: read('server.crt'),
      key: read('server.key'),
      otherCa: read('other.crt'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
