// Shared set-up for the interop scripts: Node version check, the global WebSocket capnweb needs,
// a frame-logging transport and small argument/timing helpers.
import fs from 'node:fs';
import { WebSocket } from 'ws';
import { RpcSession, WebSocketTransport } from 'capnweb';

// capnweb 0.12.0 polyfills Symbol.dispose/asyncDispose and Promise.withResolvers itself, and
// Node 18 has everything else it touches at load time (fetch, Headers, Request, Response, Blob,
// ReadableStream/WritableStream, structuredClone, Object.hasOwn). Older Node lacks some of them.
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 18) {
  console.error(`interop: Node ${process.versions.node} is too old; capnweb 0.12.0 needs Node >= 18`);
  process.exit(2);
}

// Node < 22 has no global WebSocket; capnweb's WebSocket transport uses it (for `new
// WebSocket(url)` and the readyState constants) on both the client and the server side.
globalThis.WebSocket ??= WebSocket;

/** Parses `--flag value` / `--flag=value` / `--switch` arguments; positional ones go to `_`. */
export function parseArgs(argv, { booleans = [] } = {}) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) out[key] = a.slice(eq + 1);
    else if (booleans.includes(key)) out[key] = true;
    else if (i + 1 < argv.length) out[key] = argv[++i];
    else throw new Error(`missing value for --${key}`);
  }
  return out;
}

/** Appends one line per frame to a file, synchronously (debug aid; never used when timing). */
export class FrameLog {
  constructor(path) {
    this.fd = fs.openSync(path, 'a');
  }
  write(conn, dir, frame) {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, `${new Date().toISOString()} ${conn} ${dir} ${frame}\n`);
  }
  close() {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** An RpcTransport that logs every message passing through another one. */
export class LoggingTransport {
  constructor(inner, log, conn, { outDir, inDir }) {
    this.inner = inner;
    this.log = log;
    this.conn = conn;
    this.outDir = outDir;
    this.inDir = inDir;
  }
  send(message) {
    this.log.write(this.conn, this.outDir, message);
    this.inner.send(message);
  }
  async receive() {
    const message = await this.inner.receive();
    this.log.write(this.conn, this.inDir, message);
    return message;
  }
  abort(reason) {
    this.log.write(this.conn, 'ABORT', String(reason?.message ?? reason));
    this.inner.abort?.(reason);
  }
}

/**
 * Starts a capnweb session over `webSocket` (a URL or a `ws` socket) exposing `localMain`, with
 * every frame logged when `log` is set. Equivalent to `newWebSocketRpcSession(ws, localMain)`.
 * Returns the peer's main stub.
 */
export function webSocketSession(webSocket, localMain, log, conn, dirs) {
  if (typeof webSocket === 'string') webSocket = new WebSocket(webSocket);
  let transport = new WebSocketTransport(webSocket);
  if (log) transport = new LoggingTransport(transport, log, conn, dirs);
  return new RpcSession(transport, localMain).getRemoteMain();
}

/** Resolves with the promise's value, or rejects after `ms` with "timed out after ...". */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
