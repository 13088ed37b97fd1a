/**
 * Reach a TCP service that listens INSIDE a lab namespace (e.g. Prometheus on the client's
 * 127.0.0.1) from the test process, which stays in the root namespace.
 *
 *   root ns: 127.0.0.1:<port>  ──TCP──►  this process ──unix socket──►  node forwarder
 *                                         (a file path: not network-namespaced)
 *            inside NS ──TCP──► <host>:<port>
 *
 * So helpers that speak plain HTTP to 127.0.0.1:<port> (test/helpers/prometheus.ts: fetch,
 * its own readiness loop) work unchanged against a server started with
 * `wrap: ['ip', 'netns', 'exec', NS]`. Nothing in the root namespace is configured; only a
 * loopback listener in the caller's own port range is opened. The forwarder is our child
 * (own process group) and is ended by PID.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killGroup, waitFor, type Netns } from './netns';

export interface NsPortForward {
  /** root-namespace address to connect to: 127.0.0.1:<port> */
  readonly port: number;
  /** PID of the forwarder running inside the namespace */
  readonly pid: number;
  close(): Promise<void>;
}

// The in-namespace half: unix socket in, TCP out. Each side's error or end tears down the
// pair; a refused connect (server not up yet) just closes the client connection, so
// callers polling for readiness see a connection error and retry.
const FORWARDER = `
const net = require('node:net');
const [sock, host, port] = process.argv.slice(1);
const pair = (a, b) => {
  const done = () => { a.destroy(); b.destroy(); };
  a.on('error', done); b.on('error', done); a.on('close', done); b.on('close', done);
  a.pipe(b); b.pipe(a);
};
net.createServer((c) => pair(c, net.connect(Number(port), host))).listen(sock, () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

function pair(a: Socket, b: Socket): void {
  const done = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', done);
  b.on('error', done);
  a.on('close', done);
  b.on('close', done);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Forward 127.0.0.1:`port` of the root namespace to `host`:`targetPort` inside `ns`.
 * Resolves once both halves listen (the target itself may start later).
 */
export async function forwardIntoNetns(ns: Netns, port: number, host = '127.0.0.1', targetPort = port): Promise<NsPortForward> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwt-nsproxy-'));
  const sock = path.join(dir, 'fwd.sock');
  const child: ChildProcess = ns.spawn(process.execPath, ['-e', FORWARDER, sock, host, String(targetPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.resume();
  let server: Server | undefined;
  const close = async (): Promise<void> => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    killGroup(child, 'SIGTERM');
    if (child.exitCode === null && child.signalCode === null) {
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      killGroup(child, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`forwarder in ${ns.name} exited: ${err}`);
        return existsSync(sock);
      },
      `forwarder socket in ${ns.name}`,
      20_000,
      20,
    );
    const srv = createServer((c) => pair(c, createConnection({ path: sock })));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    server = srv;
  } catch (e) {
    await close();
    throw e;
  }
  return { port, pid: child.pid ?? 0, close };
}
