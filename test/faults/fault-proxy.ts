/**
 * An HTTP proxy between a client library and a platform fake that can misbehave like a platform does: answer with
 * errors for a while (500s, 429s with retry_after) and cut every open connection (a dropped long poll). It records
 * every request it saw, so a test can show the client backed off instead of retrying in a tight loop.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the proxy saw. */
export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  /** The status the proxy answered with when it failed the request itself. */
  injected?: number;
}

/** A failure to answer with instead of forwarding. */
export interface InjectedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Decides, per request, whether to fail it during a fault window (undefined: forward it). */
export type FaultRule = (req: { method: string; path: string }, nth: number) => InjectedAnswer | undefined;

/** A running proxy. */
export interface FaultProxy {
  readonly url: string;
  readonly requests: ProxiedRequest[];
  /** Applies `rule` to every request for `ms` milliseconds from now. */
  failFor(ms: number, rule: FaultRule): void;
  /** Destroys every open client connection (and the requests on them) without an answer. */
  cut(): number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 in front of `target` (e.g. a fake's url). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const requests: ProxiedRequest[] = [];
  let fault: { until: number; rule: FaultRule; n: number } | undefined;

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const rec: ProxiedRequest = { at: Date.now(), method: req.method ?? 'GET', path };
    requests.push(rec);
    if (fault && Date.now() < fault.until) {
      const answer = fault.rule({ method: rec.method, path }, fault.n++);
      if (answer) {
        rec.injected = answer.status;
        req.resume();
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(JSON.stringify(answer.body));
        return;
      }
    }
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path, headers: { ...req.headers, host: t.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failFor(ms, rule) {
      fault = { until: Date.now() + ms, rule, n: 0 };
    },
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
