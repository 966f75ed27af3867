/**
 * The worker benchmark's SMTP sink, on a thread of its own so that receiving 10,000 messages never
 * competes with the worker under test for the main event loop. It stores nothing but, per message,
 * the Message-ID, the arrival instant (Date.now() when the DATA phase ends, before the 250 reply)
 * and the size. Plain SMTP on 127.0.0.1 (no AUTH, no STARTTLS), like a local relay.
 *
 * Protocol (parentPort): the thread posts {type:'ready', port}; the parent sends {id, cmd} with
 * cmd 'count' | 'collect' | 'reset' | 'close' and gets {id, ...} back.
 */
import { parentPort } from 'node:worker_threads';
import { SMTPServer } from 'smtp-server';

export type SinkCommand = 'count' | 'collect' | 'reset' | 'close';
export interface SinkRequest {
  id: number;
  cmd: SinkCommand;
}
export interface SinkReply {
  id: number;
  count: number;
  bytes: number;
  ids?: string[];
  at?: number[];
}
export interface SinkReady {
  type: 'ready';
  port: number;
}

const port = parentPort;
if (!port) throw new Error('bench/worker-sink.js runs as a worker thread');

let ids: string[] = [];
let at: number[] = [];
let bytes = 0;

const MESSAGE_ID = /^message-id:\s*(<[^>]+>)/im;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  onData(stream, _session, cb) {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    stream.on('end', () => {
      const arrived = Date.now();
      const raw = Buffer.concat(chunks, size);
      const headEnd = raw.indexOf('\r\n\r\n');
      const head = raw.toString('latin1', 0, headEnd >= 0 ? headEnd : Math.min(size, 16_384));
      ids.push((MESSAGE_ID.exec(head)?.[1] ?? '').replace(/\s+/g, ''));
      at.push(arrived);
      bytes += size;
      cb();
    });
  },
});

server.on('error', (err) => {
  // A client dropping a pooled connection at shutdown is not a benchmark failure.
  if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') console.error(`sink: ${err.message}`);
});

server.listen(0, '127.0.0.1', () => {
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  port.postMessage({ type: 'ready', port: address.port } satisfies SinkReady);
});

port.on('message', (msg: SinkRequest) => {
  const base = { id: msg.id, count: ids.length, bytes };
  if (msg.cmd === 'count') port.postMessage(base satisfies SinkReply);
  else if (msg.cmd === 'collect') port.postMessage({ ...base, ids, at } satisfies SinkReply);
  else if (msg.cmd === 'reset') {
    ids = [];
    at = [];
    bytes = 0;
    port.postMessage(base satisfies SinkReply);
  } else {
    server.close(() => {
      port.postMessage(base satisfies SinkReply);
      port.close();
    });
  }
});
