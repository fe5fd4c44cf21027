import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake saw: method, path and the Authorization header. */
export interface SeenRequest {
  method: string;
  path: string;
  authorization?: string;
}

/**
 * A FAKE SQL Gateway, for failures a real Flink cannot be made to produce on demand: a proxy that
 * answers 503, a gateway that drops connections. It speaks just enough of the API (`/api_versions`,
 * `/info`, `POST /sessions`, `GET /sessions/:h`) to let an engine launch; every other request gets
 * what `fail` decides. It never stands in for Flink in a test of behaviour a real gateway has.
 */
export async function startFakeGateway(fail: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    req.resume();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = req.url ?? '';
    if (url === '/api_versions') return json(200, { versions: ['V1', 'V2', 'V3', 'V4'] });
    if (/^\/v\d\/info$/.test(url)) return json(200, { productName: 'Apache Flink', version: '2.3.0-fake' });
    if (req.method === 'POST' && /^\/v\d\/sessions$/.test(url)) return json(200, { sessionHandle: '11111111-2222-3333-4444-555555555555' });
    if (req.method === 'GET' && /^\/v\d\/sessions\/[0-9a-f-]+$/.test(url)) return json(200, { properties: { 'execution.runtime-mode': 'streaming' } });
    if (req.method === 'DELETE' && /^\/v\d\/sessions\/[0-9a-f-]+$/.test(url)) return json(200, { status: 'CLOSED' });
    fail(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
