// The interop API (see ../API.md), implemented with capnweb. Our C++ server implements the same
// API so that client.mjs and bench.mjs can run unchanged against either.
import { RpcTarget } from 'capnweb';

// Server-wide (process-wide) number of Counter objects disposed so far.
let disposedCounters = 0;

export class User extends RpcTarget {
  #id;
  constructor(id) {
    super();
    this.#id = id;
  }
  getName() {
    return 'user' + this.#id;
  }
  get profile() {
    return { name: 'user' + this.#id, tags: ['a', 'b'] };
  }
}

export class Counter extends RpcTarget {
  #value;
  #disposed = false;
  constructor(start) {
    super();
    this.#value = start;
  }
  inc() {
    return ++this.#value;
  }
  get value() {
    return this.#value;
  }
  // Called by capnweb when the last remote reference is released (or the session ends).
  [Symbol.dispose]() {
    if (this.#disposed) return;
    this.#disposed = true;
    disposedCounters++;
  }
}

export class Api extends RpcTarget {
  hello(name) {
    return 'Hello, ' + name + '!';
  }

  add(a, b) {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    throw new TypeError('add: arguments must be two numbers or two strings');
  }

  getUser(id) {
    return new User(id);
  }

  getUserData(id) {
    return { id, name: 'user' + id, tags: ['t1', 't2'] };
  }

  // Calls the client's callback server -> client and reports what it returned.
  async subscribe(cb) {
    const result = await cb('event-1');
    return 'callback returned ' + result;
  }

  // Calls cb(1), waits, then cb(2); returns both results.
  async callTwice(cb) {
    const first = await cb(1);
    const second = await cb(2);
    return [first, second];
  }

  // Takes back a User this server handed out (as a stub or a still-pending promise).
  async nameOf(user) {
    return await user.getName();
  }

  fail() {
    const err = new TypeError('bad input');
    err.code = 'E_BAD';
    throw err;
  }

  makeCounter(start = 0) {
    return new Counter(start);
  }

  disposedCount() {
    return disposedCounters;
  }

  echo(x) {
    return x;
  }
}
