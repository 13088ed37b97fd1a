// A long-lived helper process for the IPVS tests, run inside a network namespace of the
// UML guest (one per host: client or real server). Starting node under UML costs ~1 s,
// so each namespace gets one of these and is driven over stdin/stdout, one JSON object
// per line:
//   {"id":1,"op":"listen","port":8080,"name":"rs1"}   HTTP server answering "rs1:8080"
//   {"id":2,"op":"close","port":8080}                 stop listening (a failing check)
//   {"id":3,"op":"get","host":"192.0.2.10","port":80,"n":4}
//                                                     n sequential GETs, one connection each
// Replies: {"id":1,"ok":true,"result":...} or {"id":1,"ok":false,"error":"..."}.
'use strict';
const http = require('node:http');
const readline = require('node:readline');

const servers = new Map();

function listen(port, name, host) {
  return new Promise((resolve, reject) => {
    if (servers.has(port)) return resolve('already');
    const s = http.createServer((req, res) => {
      res.setHeader('connection', 'close');
      res.end(`${name}:${port}`);
    });
    s.on('connection', (c) => c.on('error', () => {}));
    s.once('error', reject);
    s.listen(port, host || '0.0.0.0', () => {
      servers.set(port, s);
      resolve('listening');
    });
  });
}

function close(port) {
  const s = servers.get(port);
  if (!s) return Promise.resolve('not listening');
  servers.delete(port);
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve('closed')));
}

function getOnce(host, port, localAddress, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: timeoutMs, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', (e) => resolve(`ERR ${e.code || e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (e) => resolve(`ERR ${e.code || e.message}`));
  });
}

async function get(host, port, n, localAddress, timeoutMs) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await getOnce(host, port, localAddress, timeoutMs || 3000));
  return out;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  try {
    let result;
    if (m.op === 'listen') result = await listen(m.port, m.name, m.host);
    else if (m.op === 'close') result = await close(m.port);
    else if (m.op === 'get') result = await get(m.host, m.port, m.n || 1, m.localAddress, m.timeoutMs);
    else throw new Error(`unknown op ${m.op}`);
    process.stdout.write(JSON.stringify({ id: m.id, ok: true, result }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: m.id, ok: false, error: String(e && e.message) }) + '\n');
  }
});
rl.on('close', () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ok: true, result: 'ready' }) + '\n');
