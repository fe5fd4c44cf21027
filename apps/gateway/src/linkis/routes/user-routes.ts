import { SluiceError } from '@sluice/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkisContext } from '../context.ts';
import { type LinkisMessage, linkisOk } from '../envelope.ts';
import { linkisErrorMessage } from '../error-envelope.ts';
import { expiredSessionCookie, sessionCookie, verifyTokenFor } from '../linkis-auth.ts';
import { addLinkisRoute, bodyOf, queryOf } from '../linkis-route.ts';

const LOGIN_OK = 'login successful(登录成功)！';
const LOGIN_FAILED = 'wrong user name or password(用户名或密码错误)！';

function loginError(method: string, message: string, code: string): LinkisMessage {
  return { method, status: 1, message, data: { errorMsg: { level: 2, errCode: 60006, desc: message, serviceKind: 'sluice-gateway' }, code } };
}

/**
 * `/user/*` (any method), as the Linkis gateway's `UserRestful` answers it: `login` takes `userName`
 * and a Sluice token as `password` (query or body) and sets the session cookie; `token-login` turns the
 * token headers into a session; `logout` removes the cookie; `userInfo`, `heartbeat`, `publicKey` and
 * `baseinfo` answer what Linkis clients read.
 */
export function registerUserRoutes(scope: FastifyInstance, ctx: LinkisContext): void {
  const setSession = (req: FastifyRequest, reply: FastifyReply, user: string) => {
    const t = ctx.tickets.issue(user);
    reply.header('set-cookie', sessionCookie(t.value, req.protocol === 'https'));
  };

  addLinkisRoute(scope, ['GET', 'POST', 'PUT'], '/user/*', async (req, reply) => {
    const action = ((req.params as { '*': string })['*'] ?? '').replace(/\/+$/, '');
    const method = `/api/user/${action}`;
    switch (action) {
      case 'login': {
        const q = queryOf(req);
        const b = bodyOf(req);
        const userName = String(q.userName ?? b.userName ?? '').trim();
        const password = String(q.password ?? b.password ?? '');
        if ((q.passwdEncrypt ?? b.passwdEncrypt) !== undefined && !password) {
          return loginError(method, 'Encrypted passwords are not supported: send the Sluice token as password', 'SLUICE_REQUEST_INVALID');
        }
        if (!userName) return loginError(method, 'Username can not be empty(用户名不能为空)！', 'SLUICE_REQUEST_INVALID');
        if (!password) return loginError(method, 'Password can not be blank(密码不能为空)！', 'SLUICE_REQUEST_INVALID');
        const principal = await verifyTokenFor(ctx.deps.tokens, password, userName).catch(() => null);
        if (!principal) return loginError(method, LOGIN_FAILED, 'SLUICE_AUTH_INVALID');
        setSession(req, reply, principal.user);
        return linkisOk(method, { userName: principal.user, isAdmin: false, sessionTimeOut: ctx.tickets.timeoutMs, enableWatermark: false }, LOGIN_OK);
      }
      case 'token-login': {
        const principal = await ctx.caller(req, reply);
        setSession(req, reply, principal.user);
        return linkisOk(method, { userName: principal.user, isAdmin: false, sessionTimeOut: ctx.tickets.timeoutMs }, LOGIN_OK);
      }
      case 'logout':
        reply.header('set-cookie', expiredSessionCookie());
        return linkisOk(method, {}, 'Logout successful(退出登录成功)！');
      case 'userInfo':
        return linkisOk(method, { userName: (await ctx.caller(req, reply)).user });
      case 'heartbeat':
        await ctx.caller(req, reply);
        return linkisOk(method, {}, 'Maintain heartbeat success(维系心跳成功)');
      case 'publicKey':
        return linkisOk(method, { enableSSL: req.protocol === 'https', enableLoginEncrypt: false });
      case 'baseinfo':
        await ctx.caller(req, reply);
        return linkisOk(method, { resultSetExportEnable: true, linkisClusterName: 'sluice', engineLogOnlyAdminEnable: false });
      default: {
        const path = req.url.split('?')[0] ?? req.url;
        return linkisErrorMessage(method, new SluiceError('SLUICE_ROUTE_NOT_FOUND', { method: req.method, url: path }, `unknown request URI ${path}`));
      }
    }
  });
}
