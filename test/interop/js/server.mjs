#!/usr/bin/env node
// Reference Cap'n Web server for the interop API (../API.md), on capnweb 0.12.0.
//
//   node server.mjs [--port N] [--host ADDR] [--log-frames FILE] [--exit-on-stdin-eof]
//
// Serves WebSocket RPC on any path and HTTP batch RPC on `POST /rpc`, prints `LISTENING <port>`
// on stdout once it accepts connections, and exits 0 on SIGTERM or SIGINT (and, with
// --exit-on-stdin-eof, when its stdin closes: handy for a parent that may die without killing it).
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { newWebSocketRpcSession, nodeHttpBatchRpcResponse } from 'capnweb';
import { FrameLog, parseArgs, webSocketSession } from './common.mjs';
import { Api } from './api.mjs';

const usage = 'usage: node server.mjs [--port N] [--host ADDR] [--log-frames FILE] [--exit-on-stdin-eof]';
let args;
try {
  args = parseArgs(process.argv.slice(2), { booleans: ['exit-on-stdin-eof', 'help'] });
} catch (err) {
  console.error(`server.mjs: ${err.message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
if (args._.length > 0) {
  console.error(`server.mjs: unexpected argument '${args._[0]}'\n${usage}`);
  process.exit(2);
}
const port = Number(args.port ?? 0);
const host = args.host ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.mjs: bad --port '${args.port}'`);
  process.exit(2);
}
const log = args['log-frames'] ? new FrameLog(args['log-frames']) : undefined;
let nextConn = 1;

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path !== '/rpc') {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: HTTP batch RPC is served on POST /rpc, WebSocket RPC on any path\n');
    return;
  }
  const conn = `batch#${nextConn++}`;
  if (log) {
    // Attached before capnweb's own listeners, so both see the body.
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      for (const line of body === '' ? [] : body.split('\n')) log.write(conn, 'C->S', line);
    });
    const end = res.end.bind(res);
    res.end = (body, ...rest) => {
      const text = body === undefined ? '' : String(body);
      for (const line of text === '' ? [] : text.split('\n')) log.write(conn, 'S->C', line);
      return end(body, ...rest);
    };
  }
  nodeHttpBatchRpcResponse(req, res, new Api()).catch((err) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`batch RPC failed: ${err?.message ?? err}\n`);
  });
});

const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  const api = new Api();
  if (log) {
    const conn = `ws#${nextConn++}`;
    log.write(conn, 'OPEN', '');
    ws.on('close', (code, reason) => log.write(conn, 'CLOSE', `${code} ${reason}`));
    webSocketSession(ws, api, log, conn, { outDir: 'S->C', inDir: 'C->S' });
  } else {
    newWebSocketRpcSession(ws, api);
  }
});

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.close(() => {
    log?.close();
    process.exit(0);
  });
  server.closeAllConnections?.();
  // Belt and braces: never linger.
  setTimeout(() => process.exit(0), 2000).unref();
  if (why) console.error(`server.mjs: stopping (${why})`);
}
process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());
if (args['exit-on-stdin-eof']) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

server.on('error', (err) => {
  console.error(`server.mjs: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
