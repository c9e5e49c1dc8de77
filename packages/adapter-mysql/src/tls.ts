/**
 * The host name check mysql2 skips. mysql2 verifies the certificate's host
 * name only when the host is a DNS name: for an IP address it passes no
 * server name to Node's TLS, which then checks the certificate against
 * "localhost" (seen with mysql2 3.24: a certificate for localhost only was
 * accepted for 127.0.0.1). So when the host name must be verified, the
 * adapter checks the certificate the connection ended up with itself,
 * against the host it connected to, before the connection is used.
 *
 * Failure mode: for an IP address this check runs after the handshake, so
 * the authentication exchange has already gone to the server whose
 * certificate is then refused (for a DNS name, mysql2 refuses it during the
 * handshake). docs/mysql.md says to name the server by a DNS name.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { MysqlConnection, NormalizedConfig } from './config.js';

export class ServerIdentityError extends Error {
  readonly code = 'ERR_TLS_CERT_ALTNAME_INVALID';
}

export function assertServerIdentity(config: NormalizedConfig, connection: MysqlConnection): void {
  const ssl = config.ssl;
  if (ssl === undefined || ssl === false) return;
  const options = ssl === true ? {} : ssl;
  if (options.rejectUnauthorized === false || options.verifyHostname === false) return;
  const certificate = connection.stream?.getPeerCertificate?.(false) as PeerCertificate | undefined;
  if (certificate === undefined || Object.keys(certificate).length === 0) {
    throw new ServerIdentityError('TLS was asked for, but the connection has no certificate');
  }
  const problem = checkServerIdentity(config.host, certificate);
  if (problem !== undefined) throw new ServerIdentityError(problem.message);
}
