#!/usr/bin/env node
// Interop scenarios: a capnweb 0.12.0 client against any server implementing ../API.md (the
// JS reference server.mjs, or our C++ server).
//
//   node client.mjs <url> [--scenario NAME[,NAME...]|all] [--timeout-ms N] [--log-frames FILE]
//                         [--ws URL] [--http URL] [--list]
//
// <url> is ws://HOST:PORT/PATH or http://HOST:PORT/PATH; the other transport's URL is derived
// from it (same host, port and path, scheme swapped) unless --ws/--http give it. Prints one line
// per scenario, `ok <name>` or `FAIL <name>: <why>`, then `N passed, N failed`; exits 0 only if
// every selected scenario passed (1 if one failed, 2 on bad usage).
import util from 'node:util';
import { newHttpBatchRpcSession } from 'capnweb';
import { FrameLog, parseArgs, webSocketSession, withTimeout } from './common.mjs';

// ---------------------------------------------------------------------------------------------
// Comparison helpers

const show = (v) =>
  util.inspect(v, { depth: 4, maxArrayLength: 8, maxStringLength: 60, breakLength: Infinity });

function byteKind(v) {
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(v)) return 'Uint8Array'; // capnweb decodes plain bytes as Buffer on Node
  if (v instanceof ArrayBuffer) return 'ArrayBuffer';
  if (v instanceof DataView) return 'DataView';
  if (ArrayBuffer.isView(v)) return Object.getPrototypeOf(v).constructor.name;
  return undefined;
}

function rawBytes(v) {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

const isPlainObject = (v) => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** Returns undefined when `actual` deep-equals `expected`, else a description of the first difference. */
function diff(actual, expected, path = '$') {
  const where = (msg) => `${path}: ${msg}`;
  if (typeof expected !== 'object' || expected === null) {
    if (Object.is(actual, expected)) return undefined;
    return where(`expected ${show(expected)} (${typeof expected}), got ${show(actual)} (${typeof actual})`);
  }
  if (expected instanceof Date) {
    if (!(actual instanceof Date)) return where(`expected a Date, got ${show(actual)}`);
    if (!Object.is(actual.getTime(), expected.getTime()))
      return where(`expected Date(${expected.getTime()}), got Date(${actual.getTime()})`);
    return undefined;
  }
  const ek = byteKind(expected);
  if (ek !== undefined) {
    const ak = byteKind(actual);
    if (ak !== ek) return where(`expected ${ek}, got ${ak ?? show(actual)}`);
    const a = rawBytes(actual);
    const e = rawBytes(expected);
    if (a.length !== e.length) return where(`expected ${e.length} bytes, got ${a.length}`);
    for (let i = 0; i < e.length; i++) {
      if (a[i] !== e[i]) return where(`byte ${i}: expected ${e[i]}, got ${a[i]}`);
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return where(`expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length)
      return where(`expected length ${expected.length}, got ${actual.length}: ${show(actual)}`);
    for (let i = 0; i < expected.length; i++) {
      const d = diff(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected instanceof Error) {
    if (!(actual instanceof Error)) return where(`expected an Error, got ${show(actual)}`);
    const ec = Object.getPrototypeOf(expected).constructor.name;
    const ac = Object.getPrototypeOf(actual).constructor.name;
    if (ac !== ec) return where(`expected a ${ec}, got a ${ac}`);
    if (actual.name !== expected.name) return where(`expected name ${show(expected.name)}, got ${show(actual.name)}`);
    if (actual.message !== expected.message)
      return where(`expected message ${show(expected.message)}, got ${show(actual.message)}`);
    const skip = new Set(['stack', 'name', 'message', 'cause', 'errors']);
    const props = (e) => Object.fromEntries(Object.keys(e).filter((k) => !skip.has(k)).map((k) => [k, e[k]]));
    const d = diff(props(actual), props(expected), `${path}{props}`);
    if (d) return d;
    if ('cause' in expected) {
      if (!('cause' in actual)) return where('expected a cause, got none');
      const dc = diff(actual.cause, expected.cause, `${path}.cause`);
      if (dc) return dc;
    }
    if (expected instanceof AggregateError) return diff(actual.errors, expected.errors, `${path}.errors`);
    return undefined;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return where(`expected a plain object, got ${show(actual)}`);
    const ak = Object.keys(actual).sort();
    const ek2 = Object.keys(expected).sort();
    if (ak.join('\0') !== ek2.join('\0')) return where(`expected keys ${show(ek2)}, got ${show(ak)}`);
    for (const k of ek2) {
      const d = diff(actual[k], expected[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  throw new Error(`diff: unsupported expected value at ${path}: ${show(expected)}`);
}

function expectEqual(actual, expected, what) {
  const d = diff(actual, expected);
  if (d) throw new Error(`${what}: ${d}`);
}

/** Awaits `promise`, which must reject; returns the rejection reason. */
async function expectReject(promise, what) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`${what}: expected a rejection, got ${show(value)}`);
}

function expectBadInputError(err, what) {
  if (!(err instanceof TypeError)) throw new Error(`${what}: expected a TypeError, got ${show(err)}`);
  if (err.message !== 'bad input') throw new Error(`${what}: expected message 'bad input', got ${show(err.message)}`);
  if (err.code !== 'E_BAD') throw new Error(`${what}: expected code 'E_BAD', got ${show(err.code)}`);
}

/** Polls `probe()` until it returns true, or fails after `ms` (no fixed sleeps). */
async function eventually(probe, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${ms} ms (last: ${show(last)})`);
    await new Promise((r) => setImmediate(r));
  }
}

// ---------------------------------------------------------------------------------------------
// Values for echo(): [name, value sent, value expected back (defaults to the value sent)]

function nestedArray(depth) {
  let v = ['bottom'];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

function echoCases() {
  const customNamed = new Error('custom');
  customNamed.name = 'MyError';
  return [
    ['undefined', undefined],
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['negative-zero', -0, 0], // JSON has no -0: JSON.stringify(-0) is "0", so it comes back +0
    ['integer', 42],
    ['negative-integer', -7],
    ['1.5', 1.5],
    ['0.1', 0.1],
    ['2^53', 2 ** 53],
    ['-(2^53-1)', -(2 ** 53 - 1)],
    ['2^64', 2 ** 64],
    ['1e21', 1e21],
    ['5e-324', 5e-324],
    ['max-double', Number.MAX_VALUE],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
    ['bigint', 12345678901234567890n],
    ['bigint-negative', -12345678901234567890n],
    ['bigint-zero', 0n],
    ['bigint-2^200', 2n ** 200n],
    ['date', new Date(1700000000000)],
    ['date-epoch', new Date(0)],
    ['date-negative', new Date(-1)],
    ['date-invalid', new Date(NaN)],
    ['Uint8Array', new Uint8Array([1, 2, 3, 250])],
    ['Uint8Array-empty', new Uint8Array(0)],
    ['Uint8Array-all-bytes', Uint8Array.from({ length: 256 }, (_, i) => i)],
    ['Uint8Array-subarray', new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4), new Uint8Array([1, 2, 3])],
    ['Buffer', Buffer.from([7, 8, 9]), new Uint8Array([7, 8, 9])],
    ['Int8Array', new Int8Array([-128, -1, 0, 127])],
    ['Uint8ClampedArray', new Uint8ClampedArray([0, 128, 255])],
    ['Int16Array', new Int16Array([-32768, -1, 0, 32767])],
    ['Uint16Array', new Uint16Array([0, 1, 65535])],
    ['Int32Array', new Int32Array([-2147483648, -1, 0, 2147483647])],
    ['Uint32Array', new Uint32Array([0, 1, 4294967295])],
    ['BigInt64Array', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
    ['BigUint64Array', new BigUint64Array([0n, 1n, 2n ** 64n - 1n])],
    ['Float32Array', new Float32Array([1.5, -0, NaN, Infinity, -3.25])],
    ['Float64Array', new Float64Array([Math.PI, -0, NaN, -Infinity, 5e-324])],
    ['Float64Array-empty', new Float64Array(0)],
    ['ArrayBuffer', new Uint8Array([1, 2, 3, 4, 5]).buffer],
    ['DataView', new DataView(new Uint8Array([0, 1, 2, 3, 0]).buffer, 1, 3), new DataView(new Uint8Array([1, 2, 3]).buffer)],
    ['array-nested', [1, [2, 'three'], null]],
    ['array-empty', []],
    ['array-of-empty', [[]]],
    ['array-of-special', [undefined, NaN, -Infinity, 1n, new Date(5), new Uint8Array([1]), [['x']]]],
    ['array-deep-100', nestedArray(100)],
    ['object-empty', {}],
    [
      'object-nested-special',
      {
        u: undefined,
        n: null,
        nan: NaN,
        inf: Infinity,
        big: -5n,
        when: new Date(1700000000000),
        bytes: new Uint8Array([0, 255]),
        f64: new Float64Array([Math.PI]),
        nested: { arr: [[], {}, [undefined]], err: new Error('inner'), deeper: { s: 'ok' } },
      },
    ],
    ['object-odd-keys', { '': 1, 'with space': 2, 'ünï©ødé': 3, 0: 4, 'a.b': 5, '"quoted"': 6 }],
    ['string-empty', ''],
    ['string-unicode', 'héllo wörld ✓ 𝄞 😀 日本語 Ω'],
    ['string-escapes', 'quote" backslash\\ slash/ tab\t nul\u0000 bell\u0007 esc\u001b del\u007f \u2028\u2029 end'],
    ['string-newlines', 'line1\nline2\r\nline3\n'],
    ['string-json-like', '["push",["pipeline",0,["x"],[]]]'],
    ['string-200k', 'x'.repeat(200000) + 'é'],
    ['error', Object.assign(new RangeError('out of range'), { code: 42, detail: { x: [1, 2], when: new Date(7) } })],
    ['error-plain', new Error('plain')],
    ['error-TypeError', new TypeError('t')],
    ['error-SyntaxError', new SyntaxError('s')],
    ['error-EvalError', new EvalError('e')],
    ['error-ReferenceError', new ReferenceError('r')],
    ['error-URIError', new URIError('u')],
    ['error-cause', new Error('outer', { cause: new TypeError('inner') })],
    ['error-custom-name', customNamed, new Error('custom')], // unknown names arrive as Error
    ['error-aggregate', new AggregateError([new Error('e1'), new SyntaxError('e2')], 'agg')],
  ];
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each gets a fresh WebSocket session (`api`, the server's main stub) unless it is a
// batch scenario, and must finish within --timeout-ms.

const scenarios = {
  async 'plain-call'({ api }) {
    expectEqual(await api.hello('world'), 'Hello, world!', 'hello("world")');
    expectEqual(await api.add(2, 3), 5, 'add(2, 3)');
    expectEqual(await api.add(0.5, -2), -1.5, 'add(0.5, -2)');
    expectEqual(await api.add('ab', 'cd'), 'abcd', 'add("ab", "cd")');
    const err = await expectReject(api.add(1, 'x'), 'add(1, "x")');
    if (!(err instanceof TypeError)) throw new Error(`add(1, "x"): expected a TypeError, got ${show(err)}`);
    expectEqual(await api.getUserData(5), { id: 5, name: 'user5', tags: ['t1', 't2'] }, 'getUserData(5)');
  },

  async 'pipeline-chain'({ api }) {
    // getUser() is never awaited: getName() goes out pipelined on its unresolved result.
    expectEqual(await api.getUser(1).getName(), 'user1', 'getUser(1).getName()');
    expectEqual(await api.makeCounter(10).inc(), 11, 'makeCounter(10).inc()');
    const user = api.getUser(9);
    const [a, b] = await Promise.all([user.getName(), user.getName()]);
    expectEqual([a, b], ['user9', 'user9'], 'two calls on one pending getUser(9)');
  },

  async 'pipeline-property'({ api }) {
    expectEqual(await api.getUser(2).profile.tags, ['a', 'b'], 'getUser(2).profile.tags');
    expectEqual(await api.getUser(2).profile, { name: 'user2', tags: ['a', 'b'] }, 'getUser(2).profile');
    // capnweb quirk (0.12.0): a JS client's `[1]` on a promise is the *string* path element "1",
    // and the server indexes arrays only with numbers, so these read `undefined` (API.md).
    expectEqual(await api.getUser(2).profile.tags[0], undefined, 'getUser(2).profile.tags[0] (string index)');
    expectEqual(await api.getUserData(3).tags[1], undefined, 'getUserData(3).tags[1] (string index)');
    expectEqual(await api.getUserData(3).tags, ['t1', 't2'], 'getUserData(3).tags');
    expectEqual(await api.getUserData(3).name, 'user3', 'getUserData(3).name');
    expectEqual(await api.getUserData(3).missing, undefined, 'getUserData(3).missing');
    expectEqual(await api.makeCounter(4).value, 4, 'makeCounter(4).value');
  },

  async 'promise-argument'({ api }) {
    expectEqual(await api.add(api.hello('p'), '!'), 'Hello, p!!', 'add(hello("p"), "!")');
    expectEqual(await api.add(api.add(1, 2), api.add(3, 4)), 10, 'add(add(1, 2), add(3, 4))');
    expectEqual(await api.hello(api.getUserData(6).name), 'Hello, user6!', 'hello(getUserData(6).name)');
  },

  async callback({ api }) {
    const seen = [];
    const cb = (event) => {
      seen.push(event);
      return 'got ' + event;
    };
    expectEqual(await api.subscribe(cb), 'callback returned got event-1', 'subscribe(cb)');
    expectEqual(seen, ['event-1'], 'arguments the callback saw');
    // An async callback: the server awaits the promise it gets back.
    const slow = async (event) => {
      await new Promise((r) => setImmediate(r));
      return event.toUpperCase();
    };
    expectEqual(await api.subscribe(slow), 'callback returned EVENT-1', 'subscribe(async cb)');
  },

  async 'callback-twice'({ api }) {
    const seen = [];
    const cb = (x) => {
      seen.push(x);
      return x * 10;
    };
    expectEqual(await api.callTwice(cb), [10, 20], 'callTwice(cb)');
    expectEqual(seen, [1, 2], 'arguments the callback saw');
  },

  async 'callback-released'({ api, timeoutMs }) {
    // The server must release a callback passed as a parameter once the call returns; capnweb
    // then runs the function's [Symbol.dispose].
    let disposed = 0;
    let disposedDuringCall;
    const cb = (event) => {
      disposedDuringCall = disposed;
      return event;
    };
    cb[Symbol.dispose] = () => {
      disposed++;
    };
    expectEqual(await api.subscribe(cb), 'callback returned event-1', 'subscribe(cb)');
    expectEqual(disposedDuringCall, 0, 'dispose count while the callback ran');
    await eventually(() => disposed === 1 || disposed, timeoutMs / 2, 'callback released by the server');
  },

  async 'counter-dispose'({ api, timeoutMs }) {
    const before = await api.disposedCount();
    if (typeof before !== 'number') throw new Error(`disposedCount(): expected a number, got ${show(before)}`);
    const counter = await api.makeCounter();
    expectEqual(await counter.inc(), 1, 'first inc()');
    expectEqual(await counter.inc(), 2, 'second inc()');
    expectEqual(await counter.value, 2, 'value');
    counter[Symbol.dispose]();
    await eventually(
      async () => (await api.disposedCount()) >= before + 1 || `disposedCount() still ${before}`,
      timeoutMs / 2,
      'server saw the Counter disposed',
    );
  },

  async error({ api }) {
    expectBadInputError(await expectReject(api.fail(), 'fail()'), 'fail()');
    // The session survives an application error.
    expectEqual(await api.hello('after'), 'Hello, after!', 'hello after fail()');
  },

  async 'error-pipelined'({ api }) {
    // Calls pipelined on a rejected result reject with the same error.
    expectBadInputError(await expectReject(api.fail().whatever(), 'fail().whatever()'), 'fail().whatever()');
    expectBadInputError(await expectReject(api.fail().some.path, 'fail().some.path'), 'fail().some.path');
    expectBadInputError(await expectReject(api.add(api.fail(), 1), 'add(fail(), 1)'), 'add(fail(), 1)');
  },

  async 'unknown-method'({ api }) {
    const err = await expectReject(api.noSuchMethod(1), 'noSuchMethod(1)');
    if (!(err instanceof TypeError)) throw new Error(`noSuchMethod(1): expected a TypeError, got ${show(err)}`);
    const err2 = await expectReject(api.getUser(1).noSuchMethod(), 'getUser(1).noSuchMethod()');
    if (!(err2 instanceof TypeError)) throw new Error(`getUser(1).noSuchMethod(): expected a TypeError, got ${show(err2)}`);
    expectEqual(await api.hello('still here'), 'Hello, still here!', 'hello after unknown methods');
  },

  async 'echo-values'({ api }) {
    const cases = echoCases();
    const results = await Promise.allSettled(cases.map(([, value]) => api.echo(value)));
    const failures = [];
    cases.forEach(([name, value, ...rest], i) => {
      const expected = rest.length > 0 ? rest[0] : value;
      const r = results[i];
      if (r.status === 'rejected') failures.push(`${name}: rejected: ${r.reason?.message ?? show(r.reason)}`);
      else {
        const d = diff(r.value, expected);
        if (d) failures.push(`${name}: ${d}`);
      }
    });
    // echo() with no argument returns undefined.
    const none = await api.echo();
    if (none !== undefined) failures.push(`echo(): expected undefined, got ${show(none)}`);
    if (failures.length > 0) throw new Error(`${failures.length}/${cases.length + 1} values differ: ${failures.join('; ')}`);
  },

  async 'e-order'({ api }) {
    // Calls on one object are delivered in the order they were sent, also when pipelined on a
    // result that is still pending.
    const counter = await api.makeCounter(0);
    const got = await Promise.all(Array.from({ length: 200 }, () => counter.inc()));
    expectEqual(got, Array.from({ length: 200 }, (_, i) => i + 1), '200 inc() on a resolved counter');
    const pending = api.makeCounter(100);
    const got2 = await Promise.all(Array.from({ length: 50 }, () => pending.inc()));
    expectEqual(got2, Array.from({ length: 50 }, (_, i) => 101 + i), '50 inc() pipelined on makeCounter(100)');
    expectEqual(await pending.value, 150, 'value after 50 inc()');
    counter[Symbol.dispose]();
    pending[Symbol.dispose]();
  },

  async 'pass-stub-back'({ api }) {
    const user = await api.getUser(7);
    expectEqual(await api.nameOf(user), 'user7', 'nameOf(resolved getUser(7) stub)');
    expectEqual(await api.nameOf(api.getUser(8)), 'user8', 'nameOf(pending getUser(8))');
    user[Symbol.dispose]();
  },

  async 'batch-pipeline'({ httpUrl, log }) {
    const { value, requests } = await countingFetch(async () => {
      const api = newHttpBatchRpcSession(httpUrl);
      const name = api.getUser(42).getName();
      const hello = api.hello('batch');
      return Promise.all([name, hello]);
    }, { log, name: 'batch-pipeline' });
    expectEqual(value, ['user42', 'Hello, batch!'], 'getUser(42).getName() + hello("batch")');
    expectEqual(requests, 1, 'HTTP requests for the batch');
  },

  async 'batch-error'({ httpUrl, log }) {
    const { value, requests } = await countingFetch(async () => {
      const api = newHttpBatchRpcSession(httpUrl);
      return Promise.allSettled([api.fail(), api.add(1, 2), api.echo(api.getUserData(1).tags)]);
    }, { log, name: 'batch-error' });
    if (value[0].status !== 'rejected') throw new Error(`fail(): expected a rejection, got ${show(value[0].value)}`);
    expectBadInputError(value[0].reason, 'fail() in a batch');
    expectEqual(value[1], { status: 'fulfilled', value: 3 }, 'add(1, 2) in the same batch');
    expectEqual(value[2], { status: 'fulfilled', value: ['t1', 't2'] }, 'echo(getUserData(1).tags) in the same batch');
    expectEqual(requests, 1, 'HTTP requests for the batch');
  },
};

/**
 * Runs `fn` with global fetch wrapped to count requests (and log the batch frames when
 * --log-frames is on); returns its value and the count.
 */
async function countingFetch(fn, { log, name } = {}) {
  const realFetch = globalThis.fetch;
  let requests = 0;
  globalThis.fetch = async (input, init) => {
    const conn = `${name}#${++requests}`;
    if (log && typeof init?.body === 'string') {
      for (const line of init.body === '' ? [] : init.body.split('\n')) log.write(conn, 'C->S', line);
    }
    const response = await realFetch(input, init);
    if (log) {
      const text = await response.clone().text();
      log.write(conn, 'HTTP', `${response.status} ${response.statusText}`);
      for (const line of text === '' ? [] : text.split('\n')) log.write(conn, 'S->C', line);
    }
    return response;
  };
  try {
    return { value: await fn(), requests };
  } finally {
    globalThis.fetch = realFetch;
  }
}

// ---------------------------------------------------------------------------------------------

function deriveUrls(url, wsOverride, httpOverride) {
  let ws;
  let http;
  if (url) {
    const u = new URL(url);
    const swap = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'ws:', 'https:': 'wss:' }[u.protocol];
    if (!swap) throw new Error(`unsupported URL scheme '${u.protocol}' (want ws, wss, http or https)`);
    const other = new URL(url);
    other.protocol = swap;
    if (u.protocol.startsWith('ws')) [ws, http] = [u.href, other.href];
    else [ws, http] = [other.href, u.href];
  }
  return { wsUrl: wsOverride ?? ws, httpUrl: httpOverride ?? http };
}

async function main() {
  const usage =
    'usage: node client.mjs <ws-or-http-url> [--scenario NAME[,NAME...]|all] [--timeout-ms N] ' +
    '[--log-frames FILE] [--ws URL] [--http URL] [--list]';
  let args;
  try {
    args = parseArgs(process.argv.slice(2), { booleans: ['list', 'help'] });
  } catch (err) {
    console.error(`client.mjs: ${err.message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  if (args.list) {
    for (const name of Object.keys(scenarios)) console.log(name);
    return 0;
  }
  let urls;
  try {
    if (args._.length > 1) throw new Error(`unexpected argument '${args._[1]}'`);
    urls = deriveUrls(args._[0], args.ws, args.http);
    if (!urls.wsUrl && !urls.httpUrl) throw new Error('missing server URL');
  } catch (err) {
    console.error(`client.mjs: ${err.message}\n${usage}`);
    return 2;
  }
  const selected =
    !args.scenario || args.scenario === 'all' ? Object.keys(scenarios) : args.scenario.split(',').filter(Boolean);
  for (const name of selected) {
    if (!scenarios[name]) {
      console.error(`client.mjs: unknown scenario '${name}' (known: ${Object.keys(scenarios).join(', ')})`);
      return 2;
    }
  }
  const timeoutMs = Number(args['timeout-ms'] ?? 10000);
  const log = args['log-frames'] ? new FrameLog(args['log-frames']) : undefined;

  let passed = 0;
  let failed = 0;
  for (const name of selected) {
    const batch = name.startsWith('batch-');
    let api;
    try {
      if (batch && !urls.httpUrl) throw new Error('no HTTP URL');
      if (!batch && !urls.wsUrl) throw new Error('no WebSocket URL');
      if (!batch) api = webSocketSession(urls.wsUrl, undefined, log, name, { outDir: 'C->S', inDir: 'S->C' });
      await withTimeout(scenarios[name]({ api, ...urls, timeoutMs, log }), timeoutMs, name);
      console.log(`ok ${name}`);
      passed++;
    } catch (err) {
      const why = String(err?.message ?? err).replace(/\s+/g, ' ');
      console.log(`FAIL ${name}: ${why}`);
      failed++;
    } finally {
      // Closes the WebSocket (code 3000): a normal shutdown, no abort message.
      try {
        api?.[Symbol.dispose]();
      } catch {}
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  log?.close();
  return failed === 0 ? 0 : 1;
}

// Exit explicitly: a stuck server must not keep this process alive through open sockets.
main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`client.mjs: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
