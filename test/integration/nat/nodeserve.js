// A node http server inside the sandbox: answers with the method, the body's
// length and the peer's address as the sandbox sees it.
'use strict';
const http = require('node:http');
http.createServer((req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => res.end(`node got ${req.method} ${n} from ${req.socket.remoteAddress}\n`));
}).listen(Number(process.argv[2]), '0.0.0.0');
