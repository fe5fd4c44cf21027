import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { clientProof, deriveScramKeys, SCRAM_ITERATIONS, ScramError, ScramServer, scramSalt } from './scram.ts';

function exchange(server: ScramServer<ReturnType<typeof cred>>, token: string, user: string) {
  const first = `n=,r=${randomBytes(12).toString('base64')}`;
  const serverFirst = server.start(`n,,${first}`);
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  assert.deepEqual(Buffer.from(attrs.s as string, 'base64'), scramSalt(user));
  const noProof = `c=${Buffer.from('n,,').toString('base64')},r=${attrs.r}`;
  const { proof, serverSignature } = clientProof(token, scramSalt(user), Number(attrs.i), `${first},${serverFirst},${noProof}`);
  return { result: server.finish(`${noProof},p=${proof.toString('base64')}`), serverSignature };
}

const cred = (token: string, user: string, id: string) => ({ ...deriveScramKeys(token, user), id });

describe('SCRAM-SHA-256 server over per-token verifiers', () => {
  const user = 'alice';
  const tokens = ['slk_one', 'slk_two', 'slk_three'];
  const creds = tokens.map((t, i) => cred(t, user, `t${i}`));

  it('identifies which of the user’s tokens the client holds, and signs the server-final message', () => {
    for (const [i, token] of tokens.entries()) {
      const { result, serverSignature } = exchange(new ScramServer(creds, scramSalt(user), SCRAM_ITERATIONS), token, user);
      assert.equal(result?.credential.id, `t${i}`);
      assert.equal(result?.serverFinal, `v=${serverSignature.toString('base64')}`);
    }
  });

  it('refuses a token that is not one of the user’s, and one of another user', () => {
    assert.equal(exchange(new ScramServer(creds, scramSalt(user), SCRAM_ITERATIONS), 'slk_four', user).result, null);
    const bobs = [cred('slk_bob', 'bob', 'b')];
    assert.equal(exchange(new ScramServer(bobs, scramSalt(user), SCRAM_ITERATIONS), 'slk_bob', user).result, null, 'bob’s verifier uses bob’s salt');
    assert.equal(exchange(new ScramServer([], scramSalt(user), SCRAM_ITERATIONS), 'slk_one', user).result, null);
  });

  it('salts differ per user and stay stable', () => {
    assert.deepEqual(scramSalt('alice'), scramSalt('alice'));
    assert.notDeepEqual(scramSalt('alice'), scramSalt('bob'));
    assert.equal(scramSalt('x').length, 16);
  });

  it('rejects malformed messages, channel binding requests and a replayed nonce', () => {
    const s = new ScramServer(creds, scramSalt(user), SCRAM_ITERATIONS);
    assert.throws(() => s.start('p=tls-server-end-point,,n=,r=abc'), ScramError);
    assert.throws(() => s.start('garbage'), ScramError);
    assert.throws(() => s.start('n,,n=,r='), ScramError);
    const s2 = new ScramServer(creds, scramSalt(user), SCRAM_ITERATIONS);
    s2.start('n,,n=,r=clientnonce');
    assert.throws(() => s2.finish(`c=biws,r=clientnonceOTHER,p=${Buffer.alloc(32).toString('base64')}`), /nonce/);
    assert.throws(() => s2.finish('c=biws,r=x'), ScramError);
  });
});
