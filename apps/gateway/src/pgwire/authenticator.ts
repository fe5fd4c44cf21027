import type { Principal } from '@sluice/core';
import type { TokenStore } from '../auth/token-store.ts';
import { parsePassword, parseSaslInitial } from './frontend-messages.ts';
import { SCRAM_ITERATIONS, ScramError, ScramServer, scramSalt } from './scram.ts';
import type { ScramCredential, ScramVerifierStore } from './scram-verifier-store.ts';

/** What the server asks the client for first. */
export type AuthRequest = { kind: 'sasl'; mechanisms: string[] } | { kind: 'cleartext' };

/** One step of the exchange: send SASL data, succeed with a principal, or fail. */
export type AuthStep =
  | { kind: 'sasl-continue'; data: string }
  | { kind: 'done'; principal: Principal; saslFinal?: string }
  | { kind: 'failed'; reason: string; protocolError?: boolean };

/** The hint of every failed login: the same whatever failed, so it tells nothing about the account. */
export const AUTH_HINT =
  'The password is a Sluice token (slk_…) of this user. A token made before pgwire SCRAM verifiers were stored needs one login over TLS (sslmode=require) first.';

/**
 * The authentication of one connection. The client's password is a Sluice token whose user must be
 * the startup `user`.
 *
 * - SCRAM-SHA-256 (any connection): against the SCRAM verifiers stored for the user's tokens. All of
 *   a user's verifiers share one salt, so one exchange checks the proof against each of them.
 * - Cleartext password (TLS connections only, when the user has no verifier yet): the token is
 *   verified by the token store, and its SCRAM verifier is stored, so later logins can use SCRAM.
 */
export class Authenticator {
  private scram: ScramServer<ScramCredential> | undefined;
  private step: 'start' | 'sasl-initial' | 'sasl-final' | 'password' | 'over' = 'start';

  constructor(
    private readonly user: string,
    private readonly tls: boolean,
    private readonly tokens: TokenStore,
    private readonly verifiers: ScramVerifierStore | undefined,
  ) {}

  /** Decides the method; a user without verifiers gets SCRAM anyway on plain TCP (and then fails). */
  async begin(): Promise<AuthRequest> {
    const credentials = this.verifiers ? await this.verifiers.credentialsFor(this.user) : [];
    if (credentials.length === 0 && this.tls) {
      this.step = 'password';
      return { kind: 'cleartext' };
    }
    this.scram = new ScramServer(credentials, scramSalt(this.user), SCRAM_ITERATIONS);
    this.step = 'sasl-initial';
    return { kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] };
  }

  /** Handles a password-type ('p') message. */
  async onMessage(body: Buffer): Promise<AuthStep> {
    try {
      switch (this.step) {
        case 'password': {
          this.step = 'over';
          const token = parsePassword(body);
          const principal = await this.tokens.verify(token);
          if (!principal || principal.user !== this.user) return { kind: 'failed', reason: principal ? 'token of another user' : 'unknown token' };
          await this.verifiers?.enroll(token).catch(() => false);
          return { kind: 'done', principal };
        }
        case 'sasl-initial': {
          const { mechanism, data } = parseSaslInitial(body);
          if (mechanism !== 'SCRAM-SHA-256') return { kind: 'failed', reason: `unsupported SASL mechanism ${mechanism}`, protocolError: true };
          this.step = 'sasl-final';
          return { kind: 'sasl-continue', data: (this.scram as ScramServer<ScramCredential>).start(data) };
        }
        case 'sasl-final': {
          this.step = 'over';
          const out = (this.scram as ScramServer<ScramCredential>).finish(body.toString('utf8'));
          if (!out) return { kind: 'failed', reason: 'SCRAM proof matches no token of the user' };
          return { kind: 'done', principal: out.credential.principal, saslFinal: out.serverFinal };
        }
        default:
          return { kind: 'failed', reason: 'unexpected authentication message', protocolError: true };
      }
    } catch (err) {
      this.step = 'over';
      if (err instanceof ScramError) return { kind: 'failed', reason: err.message, protocolError: true };
      throw err;
    }
  }
}
