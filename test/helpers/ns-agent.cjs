'use strict';
/**
 * In-namespace agent: `ip netns exec NS node test/helpers/ns-agent.cjs <distDir>`.
 * Loads compiled modules from dist/ and runs their functions INSIDE the namespace, driven
 * by JSON lines on stdin; see test/helpers/ns-node.ts (startAgent) for the test side.
 *
 * Requests (one JSON object per line):
 *   {id, op:'call',   module:'net/netlink', fn:'createNetlink', args:[...]}
 *   {id, op:'invoke', handle:N, method:'addAddress', args:[...]}
 *   {id, op:'release', handle:N}
 * Replies:  {id, ok:true, value} | {id, ok:true, handle:N} | {id, ok:false, error}
 * Events:   {event:'name', args:[...]}  — from callbacks passed as {$cb:'name'}
 * Encoding: Buffer <-> {$buf:'hex'}, handle reference -> {$h:N}, Error -> {$err:{message,code,errno,...}}.
 * A result that has methods (a socket, an adapter) is kept here and returned as a handle.
 *
 * When stdin closes the agent stops reading; the process then exits only when nothing
 * else keeps the event loop alive — so a test can check that close() really released
 * every socket and thread.
 */
const path = require('node:path');
const readline = require('node:readline');

const dist = path.resolve(process.argv[2] || path.join(__dirname, '../../dist'));
const handles = new Map();
let nextHandle = 1;

function out(o) {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function enc(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $buf: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (v instanceof Error) {
    const e = { message: v.message };
    for (const k of Object.keys(v)) e[k] = enc(v[k]);
    if (v.code !== undefined) e.code = v.code;
    return { $err: e };
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function') return undefined;
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = enc(x);
    return o;
  }
  return v;
}

function dec(v) {
  if (Array.isArray(v)) return v.map(dec);
  if (v && typeof v === 'object') {
    if (typeof v.$buf === 'string') return Buffer.from(v.$buf, 'hex');
    if (typeof v.$cb === 'string') {
      const name = v.$cb;
      return (...args) => out({ event: name, args: args.map(enc) });
    }
    if (typeof v.$h === 'number') return handles.get(v.$h);
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = dec(x);
    return o;
  }
  return v;
}

/** Objects with methods (own or inherited) stay here; plain data goes back as JSON. */
function hasMethods(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) return false;
  for (let p = v; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === 'function') return true;
    }
  }
  return false;
}

async function handle(m) {
  if (m.op === 'call') {
    const mod = require(path.join(dist, m.module));
    if (typeof mod[m.fn] !== 'function') throw new Error(`${m.module}.${m.fn} is not a function`);
    return mod[m.fn](...dec(m.args || []));
  }
  if (m.op === 'invoke') {
    const o = handles.get(m.handle);
    if (!o) throw new Error(`no handle ${m.handle}`);
    if (typeof o[m.method] !== 'function') throw new Error(`handle ${m.handle} has no method ${m.method}`);
    return o[m.method](...dec(m.args || []));
  }
  if (m.op === 'release') {
    handles.delete(m.handle);
    return undefined;
  }
  throw new Error(`unknown op ${m.op}`);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    out({ id: null, ok: false, error: enc(new Error(`bad request line: ${line}`)) });
    return;
  }
  Promise.resolve()
    .then(() => handle(m))
    .then((r) => {
      if (hasMethods(r)) {
        const h = nextHandle++;
        handles.set(h, r);
        out({ id: m.id, ok: true, handle: h });
      } else out({ id: m.id, ok: true, value: enc(r) });
    })
    .catch((e) => out({ id: m.id, ok: false, error: enc(e instanceof Error ? e : new Error(String(e))) }));
});
rl.on('close', () => {
  handles.clear();
});
out({ ready: true, pid: process.pid });
