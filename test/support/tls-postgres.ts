import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** PEM files a test needs: the CA that signed the server, an unrelated CA, and a client certificate. */
export interface TestCertificates {
  ca: string;
  otherCa: string;
  clientCert: string;
  clientKey: string;
}

/** A throw-away PostgreSQL cluster that only accepts TLS on 127.0.0.1. */
export interface TlsPostgres {
  host: string;
  port: number;
  database: string;
  /** A password user (scram-sha-256 over TLS). */
  user: string;
  password: string;
  /** A user that logs in with the client certificate alone (its CN). */
  certUser: string;
  certs: TestCertificates;
  stop(): Promise<void>;
}

/** The bin directory of the newest installed Debian PostgreSQL. */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error('no PostgreSQL under /usr/lib/postgresql/*/bin (scripts/services.sh installs it)');
  return path.join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

/** Makes a CA, a server certificate for localhost/127.0.0.1 signed by it, a client certificate for `clientCn`, and an unrelated CA. */
async function makeCertificates(dir: string, clientCn: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Sluice test CA', ...caExt);
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=Unrelated CA', ...caExt);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', clientCn],
  ] as const) {
    await openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
}

/**
 * Starts a second, throw-away PostgreSQL cluster (initdb from the installed Debian binaries) with
 * `ssl=on` and certificates generated now, on a free loopback port. Plain TCP is rejected by
 * pg_hba.conf, so every successful login proves TLS. As root, the server runs as the `postgres` user.
 */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const bin = pgBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-pg-'));
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const sockets = path.join(dir, 'run');
  mkdirSync(sockets);
  const certUser = 'cert_user';
  await makeCertificates(dir, certUser);
  const superPassword = randomBytes(18).toString('base64url');
  writeFileSync(path.join(dir, 'pw'), superPassword);

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const owner = root ? await run('id', ['-u', 'postgres']).then((r) => Number(r.stdout.trim())) : undefined;
  const ownerGid = root ? await run('id', ['-g', 'postgres']).then((r) => Number(r.stdout.trim())) : undefined;
  if (owner !== undefined && ownerGid !== undefined)
    for (const f of ['.', 'run', 'pw', 'server.key', 'server.crt', 'ca.crt']) chownSync(path.join(dir, f), owner, ownerGid);
  chmodSync(path.join(dir, 'server.key'), 0o600);
  const asOwner = (cmd: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));

  await asOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${path.join(dir, 'pw')}`, '-A', 'scram-sha-256', '-E', 'UTF8']);
  const port = await freePort();
  writeFileSync(
    path.join(data, 'postgresql.conf'),
    `${readFileSync(path.join(data, 'postgresql.conf'), 'utf8')}
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${sockets}'
ssl = on
ssl_cert_file = '${path.join(dir, 'server.crt')}'
ssl_key_file = '${path.join(dir, 'server.key')}'
ssl_ca_file = '${path.join(dir, 'ca.crt')}'
fsync = off
max_connections = 50
`,
  );
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    [
      'local all all scram-sha-256',
      `hostssl all ${certUser} 127.0.0.1/32 cert`,
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostnossl all all 127.0.0.1/32 reject',
      '',
    ].join('\n'),
  );
  const ctl = path.join(bin, 'pg_ctl');
  await asOwner(ctl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);

  const stop = async () => {
    await asOwner(ctl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const password = randomBytes(18).toString('base64url');
    const su = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres', ssl: { ca } });
    await su.connect();
    try {
      await su.query(`CREATE ROLE app LOGIN PASSWORD '${password}'`);
      await su.query(`CREATE ROLE ${certUser} LOGIN`);
      await su.query('CREATE DATABASE appdb OWNER app');
    } finally {
      await su.end();
    }
    const db = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'appdb', ssl: { ca } });
    await db.connect();
    try {
      await db.query('CREATE TABLE public.secure_orders (id int PRIMARY KEY, amount numeric(10,2))');
      await db.query('INSERT INTO public.secure_orders VALUES (1, 3.50), (2, 7.25)');
      await db.query(`GRANT SELECT ON public.secure_orders TO app, ${certUser}`);
    } finally {
      await db.end();
    }
    return {
      host: '127.0.0.1',
      port,
      database: 'appdb',
      user: 'app',
      password,
      certUser,
      certs: {
        ca,
        otherCa: readFileSync(path.join(dir, 'other-ca.crt'), 'utf8'),
        clientCert: readFileSync(path.join(dir, 'client.crt'), 'utf8'),
        clientKey: readFileSync(path.join(dir, 'client.key'), 'utf8'),
      },
      stop,
    };
  } catch (err) {
    const log = existsSync(path.join(dir, 'server.log')) ? readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`the TLS PostgreSQL did not come up: ${(err as Error).message}\n${log}`);
  }
}
