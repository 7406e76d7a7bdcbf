// The smallest Node HTTP server run the way systemd socket activation documents it: the listeners
// are inherited from fd 3 on (LISTEN_FDS of them), nothing is bound here. baton passes the public
// listener first and, with [readiness] http, its private probe listener last; both serve the same
// handler, so readiness is this server's own HTTP answer.
'use strict';
const http = require('http');

const count = parseInt(process.env.LISTEN_FDS || '0', 10);
if (count < 1 || process.env.LISTEN_PID !== String(process.pid)) {
  console.error('no listeners: start me with systemd socket activation (LISTEN_FDS, LISTEN_PID)');
  process.exit(1);
}

const generation = process.env.BATON_GENERATION || '0';
// See the drain below.
const closeKeptAliveForMs = 500;
let draining = false;
const servers = [];
for (let fd = 3; fd < 3 + count; fd++) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = `node generation ${generation} pid ${process.pid}\n`;
      const headers = {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body)};
      if (draining) headers.Connection = 'close';
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.listen({fd});
  servers.push(server);
}

// The drain: stop accepting, let in-flight requests finish, close kept-alive connections, exit
// when the last one is gone. server.close() does all that, but closes at once every kept-alive
// connection idle at that instant, and a busy client's next request is often already on its way
// on one of them: that client sees its connection reset. So for a moment first every answer says
// "Connection: close", which ends each busy connection after a complete response; server.close()
// then finds idle only connections whose clients have stopped sending.
process.on('SIGTERM', () => {
  draining = true;
  setTimeout(() => {
    let open = servers.length;
    for (const server of servers) {
      server.close(() => {
        if (--open === 0) process.exit(0);
      });
    }
  }, closeKeptAliveForMs);
});
