import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiredSessionCookie, parseCookies, sessionCookie } from './linkis-auth.ts';
import { SESSION_COOKIE } from './session-ticket.ts';

describe('Linkis cookies', () => {
  it('parses Cookie headers, first value wins, quotes stripped', () => {
    const c = parseCookies(['a=1; b="two"; a=3', `${SESSION_COOKIE}=x.y`]);
    assert.equal(c.get('a'), '1');
    assert.equal(c.get('b'), 'two');
    assert.equal(c.get(SESSION_COOKIE), 'x.y');
    assert.equal(parseCookies(undefined).size, 0);
    assert.equal(parseCookies('junk; =x').size, 0);
  });

  it('sets the session cookie on / as HttpOnly, Secure only over TLS, and expires it on logout', () => {
    assert.equal(sessionCookie('v'), `${SESSION_COOKIE}=v; Path=/; HttpOnly; SameSite=Lax`);
    assert.match(sessionCookie('v', true), /; Secure$/);
    assert.match(expiredSessionCookie(), new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0`));
  });
});
