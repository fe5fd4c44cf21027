import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** PBKDF2 iterations of Sluice's SCRAM verifiers (PostgreSQL's default). */
export const SCRAM_ITERATIONS = 4096;

/** The SCRAM keys of one token: what the server keeps instead of the token. */
export interface ScramKeys {
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/**
 * The salt of every SCRAM verifier of `user`. It is derived from the user name, so all of a user's
 * tokens share it: the server must name one salt before it knows which token the client holds.
 * A salt is not a secret; it only keeps one user's verifiers from matching another's. Tokens are 256
 * random bits, so a per-user (rather than per-token) salt gives an attacker nothing to guess with.
 */
export function scramSalt(user: string): Buffer {
  return hmac(Buffer.from('sluice-pgwire-scram-salt'), user).subarray(0, 16);
}

/** Derives the SCRAM-SHA-256 keys of `token` for `user` (RFC 5802/7677, as PostgreSQL stores them). */
export function deriveScramKeys(token: string, user: string, iterations = SCRAM_ITERATIONS): ScramKeys {
  const salted = pbkdf2Sync(Buffer.from(token.normalize('NFKC'), 'utf8'), scramSalt(user), iterations, 32, 'sha256');
  return { iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** A client-side SCRAM computation, for tests and tools: the proof and expected server signature. */
export function clientProof(token: string, salt: Buffer, iterations: number, authMessage: string): { proof: Buffer; serverSignature: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(token, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const signature = hmac(sha256(clientKey), authMessage);
  const proof = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
  return { proof, serverSignature: hmac(hmac(salted, 'Server Key'), authMessage) };
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new ScramError(`malformed SCRAM attribute ${JSON.stringify(part.slice(0, 20))}`);
    out.set(part[0] as string, part.slice(2));
  }
  return out;
}

/** A malformed SCRAM message (a protocol error, not a wrong password). */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

/**
 * The server side of one SCRAM-SHA-256 exchange against several candidate verifiers that share a
 * salt and iteration count (all tokens of the user). The client's proof identifies the token: for
 * each candidate, ClientKey = proof XOR HMAC(StoredKey, AuthMessage), and the candidate matches when
 * SHA-256(ClientKey) equals its StoredKey. Channel binding is not offered (no -PLUS mechanism).
 */
export class ScramServer<C extends ScramKeys> {
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private nonce = '';

  constructor(
    private readonly candidates: readonly C[],
    private readonly salt: Buffer,
    private readonly iterations: number,
  ) {}

  /** Takes the client-first message and returns the server-first message. */
  start(clientFirst: string): string {
    // gs2-header: n or y (no channel binding), never p (we offer no -PLUS mechanism); no authzid.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(clientFirst);
    if (!m) throw new ScramError(clientFirst.startsWith('p') ? 'channel binding is not supported' : 'malformed SCRAM client-first message');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3] as string;
    const attrs = attributes(this.clientFirstBare);
    const clientNonce = attrs.get('r');
    if (!clientNonce || !PRINTABLE_NONCE.test(clientNonce) || !attrs.has('n')) throw new ScramError('malformed SCRAM client-first message');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.salt.toString('base64')},i=${this.iterations}`;
    return this.serverFirst;
  }

  /** Checks the client-final message: the matching candidate and the server-final message, or null. */
  finish(clientFinal: string): { credential: C; serverFinal: string } | null {
    const cut = clientFinal.lastIndexOf(',p=');
    if (cut < 0) throw new ScramError('malformed SCRAM client-final message');
    const withoutProof = clientFinal.slice(0, cut);
    const attrs = attributes(withoutProof);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) throw new ScramError('SCRAM channel binding data does not match');
    if (attrs.get('r') !== this.nonce) throw new ScramError('SCRAM nonce does not match');
    const proof = Buffer.from(clientFinal.slice(cut + 3), 'base64');
    if (proof.length !== 32) throw new ScramError('malformed SCRAM proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    let found: C | null = null;
    for (const c of this.candidates) {
      if (c.iterations !== this.iterations) continue;
      const signature = hmac(c.storedKey, authMessage);
      const clientKey = Buffer.alloc(32);
      for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number);
      // Every candidate is checked, so the time taken does not tell which one matched.
      if (timingSafeEqual(sha256(clientKey), c.storedKey) && !found) found = c;
    }
    if (!found) return null;
    return { credential: found, serverFinal: `v=${hmac(found.serverKey, authMessage).toString('base64')}` };
  }
}
