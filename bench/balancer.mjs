// A round-robin HTTP balancer on loopback for bench/scale.mjs: one request to each upstream in turn, over
// keep-alive connections. Runs as its own process (so its CPU time can be told apart) and tells its parent
// when it listens.
//
//   node bench/balancer.mjs <port> http://127.0.0.1:<port1> http://127.0.0.1:<port2> …
import http from 'node:http';

const [port, ...upstreams] = process.argv.slice(2);
const targets = upstreams.map((base) => {
  const url = new URL(base);
  return { host: url.hostname, port: Number(url.port), agent: new http.Agent({ keepAlive: true, maxSockets: 512 }) };
});
/** Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);
const endToEnd = (headers) => Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

let next = 0;
const server = http.createServer((request, response) => {
  const target = targets[next];
  next = (next + 1) % targets.length;
  const upstream = http.request(
    { host: target.host, port: target.port, agent: target.agent, method: request.method, path: request.url, headers: endToEnd(request.headers) },
    (reply) => {
      response.writeHead(reply.statusCode, endToEnd(reply.headers));
      reply.pipe(response);
    },
  );
  upstream.on('error', () => {
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
    response.end();
  });
  request.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
process.on('disconnect', () => process.exit(0));
