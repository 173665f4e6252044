#!/usr/bin/env node
// Cap'n Web throughput baseline (see shared design benchmarks.md): `add(a, b)` calls over one
// WebSocket, with the client (this process, capnweb 0.12.0) and the server in SEPARATE processes.
//
//   node bench.mjs [--url ws://HOST:PORT/PATH] [--calls N] [--mode sequential|pipelined|both]
//                  [--runs N] [--warmup N]
//
// Without --url it spawns `server.mjs` (same node binary) and stops it at the end; with --url it
// measures whatever server is there (our C++ server, say). Modes:
//   sequential  await each call before issuing the next (one round trip per call)
//   pipelined   issue all N calls at once, then await them together
// Each measurement uses a fresh WebSocket session, warmed up with --warmup sequential calls, and
// prints one JSON line:
//   {"impl":"js","mode":"sequential","calls":20000,"seconds":0.9,"callsPerSecond":22000,...}
// With --runs N > 1 the modes are interleaved (A B A B ...) and a final line per mode gives the
// median, with "summary":true and min/max.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { newWebSocketRpcSession } from 'capnweb';
import { parseArgs, webSocketSession, withTimeout } from './common.mjs';
import { Api } from './api.mjs';

const usage =
  'usage: node bench.mjs [--url ws://HOST:PORT/PATH | --in-process] [--calls N] [--mode sequential|pipelined|both] [--runs N] [--warmup N]';

function positiveInt(v, name, min = 1) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`bad --${name} '${v}'`);
  return n;
}

/** Spawns server.mjs and resolves with {child, url} once it printed LISTENING. */
function spawnServer() {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.mjs');
  const child = spawn(process.execPath, [script, '--exit-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'inherit'] });
  return withTimeout(
    new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`server.mjs exited early (code ${code})`)));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^LISTENING (\d+)$/.exec(line);
        if (m) resolve({ child, url: `ws://127.0.0.1:${m[1]}/rpc` });
      });
    }),
    10000,
    'starting server.mjs',
  );
}

/** Sends SIGTERM and waits (up to 5 s, then SIGKILL) for the spawned server to exit. */
async function stopServer(child) {
  child.removeAllListeners('exit');
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function measure(url, mode, calls, warmup) {
  const api = webSocketSession(url);
  try {
    for (let i = 0; i < warmup; i++) await api.add(i, 1);
    let check = 0;
    const start = process.hrtime.bigint();
    if (mode === 'sequential') {
      for (let i = 0; i < calls; i++) check += await api.add(i, 1);
    } else {
      const pending = new Array(calls);
      for (let i = 0; i < calls; i++) pending[i] = api.add(i, 1);
      for (const r of await Promise.all(pending)) check += r;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const expected = (calls * (calls - 1)) / 2 + calls;
    if (check !== expected) throw new Error(`wrong results: sum ${check}, expected ${expected}`);
    return seconds;
  } finally {
    api[Symbol.dispose]();
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  let args;
  let calls, runs, warmup, modes;
  try {
    args = parseArgs(process.argv.slice(2), { booleans: ['help', 'in-process'] });
    if (args.help) {
      console.log(usage);
      return 0;
    }
    if (args._.length > 0) throw new Error(`unexpected argument '${args._[0]}'`);
    calls = positiveInt(args.calls ?? 20000, 'calls');
    runs = positiveInt(args.runs ?? 1, 'runs');
    warmup = positiveInt(args.warmup ?? 1000, 'warmup', 0);
    const mode = args.mode ?? 'both';
    if (!['sequential', 'pipelined', 'both'].includes(mode)) throw new Error(`bad --mode '${mode}'`);
    modes = mode === 'both' ? ['sequential', 'pipelined'] : [mode];
  } catch (err) {
    console.error(`bench.mjs: ${err.message}\n${usage}`);
    return 2;
  }

  let server;
  let url = args.url;
  let inProcess;
  if (args['in-process']) {
    // Server and client in this one process (one event loop): no cross-process wake-ups.
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    wss.on('connection', (ws) => newWebSocketRpcSession(ws, new Api()));
    await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${httpServer.address().port}/rpc`;
    inProcess = { httpServer, wss };
  } else if (!url) {
    server = await spawnServer();
    url = server.url;
  }
  const common = {
    server: inProcess ? 'in-process' : server ? 'server.mjs (spawned)' : url,
    node: process.versions.node,
    sameProcess: Boolean(inProcess),
  };
  try {
    const results = Object.fromEntries(modes.map((m) => [m, []]));
    for (let run = 1; run <= runs; run++) {
      for (const mode of modes) {
        const seconds = await measure(url, mode, calls, warmup);
        const callsPerSecond = Math.round(calls / seconds);
        results[mode].push(callsPerSecond);
        console.log(JSON.stringify({ impl: 'js', mode, calls, seconds: Number(seconds.toFixed(6)), callsPerSecond, run, ...common }));
      }
    }
    if (runs > 1) {
      for (const mode of modes) {
        const r = results[mode];
        console.log(
          JSON.stringify({
            impl: 'js',
            mode,
            calls,
            runs,
            callsPerSecond: Math.round(median(r)),
            min: Math.min(...r),
            max: Math.max(...r),
            summary: true,
            ...common,
          }),
        );
      }
    }
  } finally {
    if (server) await stopServer(server.child);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench.mjs: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
