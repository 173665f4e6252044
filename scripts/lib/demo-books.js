// The sample service of the demo network (scripts/run): a tiny HTTP server on 127.0.0.1, published
// at node A as the route `books`.
//   GET /        "hello from the books service at node A"
//   GET /books   a JSON list of books
//   anything else: 404
// BOOKS_PORT (default 8080) moves it; it prints "books service listening on URL" once it accepts.
'use strict';
const http = require('http');

const port = Number(process.env.BOOKS_PORT || 8080);
const books = [
  { id: 1, title: 'The Art of Computer Programming', author: 'Donald E. Knuth' },
  { id: 2, title: 'TCP/IP Illustrated', author: 'W. Richard Stevens' },
  { id: 3, title: 'Routing TCP/IP', author: 'Jeff Doyle' },
];

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('hello from the books service at node A\n');
  } else if (req.method === 'GET' && path === '/books') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(books) + '\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
});
server.on('error', (err) => {
  console.error(`books service: ${err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`books service listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
