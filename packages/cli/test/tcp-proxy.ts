import net from 'node:net';

/** A TCP relay in front of the gateway that a test can use to cut every connection through it. */
export interface TcpProxy {
  url: string;
  /** How many connections were accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (both sides), as a network failure would. */
  cutAll(): number;
  close(): Promise<void>;
}

/** Starts a relay on 127.0.0.1 to the host and port of `targetUrl`. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cutAll() {
      const n = open.size;
      for (const s of [...open]) s.destroy();
      open.clear();
      return n;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
