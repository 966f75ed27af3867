/**
 * A TCP proxy a fault test puts between a process and a dependency (Postgres, an SMTP sink), to
 * make that dependency unresponsive without touching it:
 *   blackhole() — connections stay open (old and new), but nothing is forwarded either way: the
 *                 dependency hangs, the way a dead host behind a firewall or a full network does;
 *   cut()       — every connection is destroyed and new ones are refused (reset at once);
 *   restore()   — forwarding resumes for new connections (cut ones stay cut).
 */
import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** `host:port` of the proxy, to put into a URL in place of the target's. */
  address: string;
  /** Rewrites `url`'s host and port to the proxy's. */
  via(url: string): string;
  blackhole(): void;
  cut(): void;
  restore(): void;
  /** Connections accepted so far (blackholed ones included). */
  readonly accepted: number;
  /** Resolves once `n` connections have been accepted in all; rejects after `timeoutMs`. */
  waitForAccepted(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Mode = 'forward' | 'blackhole' | 'cut';

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = 'forward';
  let accepted = 0;
  const events = new EventEmitter();
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();

  const server: Server = createServer((client) => {
    accepted++;
    events.emit('accepted');
    client.on('error', () => undefined);
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    pairs.add(pair);
    client.once('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    // A blackholed connection is accepted and then ignored: it reads nothing and answers nothing.
    if (mode === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = createConnection(target);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => client.destroy());
    client.on('data', (d: Buffer) => {
      if (mode === 'forward') upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (mode === 'forward') client.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    address: `127.0.0.1:${port}`,
    via(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    blackhole() {
      mode = 'blackhole';
    },
    cut() {
      mode = 'cut';
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
    },
    restore() {
      mode = 'forward';
    },
    get accepted() {
      return accepted;
    },
    waitForAccepted(n, timeoutMs = 60_000) {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('accepted', check);
          reject(new Error(`the proxy accepted ${accepted} connections, not ${n}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (): void => {
          if (accepted < n) return;
          clearTimeout(timer);
          events.off('accepted', check);
          resolve();
        };
        events.on('accepted', check);
      });
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
