/**
 * TCP_CHECK: a TCP connect to connect_ip:connect_port (default the real server),
 * optionally from bindto[:bind_port], within connect_timeout. Connected = success; the
 * connection is closed at once (keepalived check_tcp.c tcp_check_thread).
 *
 * This is the hot path of a large LVS director (1000 real servers at delay_loop 1 s =
 * 1000 probes/s), and its garbage is what the event loop stalls on:
 *  - one net.Socket per checker, reconnected for every probe (Node's socket.connect() "for
 *    reconnecting a socket after 'close' has been emitted"). A fresh Socket per probe
 *    survives the young-generation GC (~0.7 MB copied and promoted per scavenge at 1000
 *    probes/s, bench/lvs-checkers.ts), so every scavenge paid for copying sockets that were
 *    already closed and old-space filled with them; a reused Socket is allocated once and
 *    each connect leaves only short-lived garbage. The checker is identified by its
 *    AbortSignal (the engine gives each checker one for its lifetime); without a signal,
 *    or while the previous connection has not closed yet, a probe uses a fresh socket;
 *  - the socket's listeners are attached once and forward to the running probe's `finish`,
 *    which ignores everything after the first outcome (so a late 'error' is never an
 *    uncaught exception and never reaches the next probe).
 */
import { Socket, type TcpNetConnectOpts } from 'node:net';
import { settleOnce } from './probe-settle';
import type { ConnectOptions, ProbeOutcome } from './types';

interface Conn {
  sock: Socket;
  /** the running probe's completion; null between probes */
  finish: ((o: ProbeOutcome) => void) | null;
  /** the previous connection emitted 'close': connect() may be called again */
  idle: boolean;
}

const conns = new WeakMap<AbortSignal, Conn>();

function newConn(): Conn {
  const sock = new Socket();
  const conn: Conn = { sock, finish: null, idle: false };
  sock.on('connect', () => conn.finish?.({ ok: true }));
  sock.on('error', (e: NodeJS.ErrnoException) => conn.finish?.({ ok: false, detail: e.code ?? e.message }));
  sock.on('close', () => {
    conn.idle = true;
  });
  return conn;
}

export function probeTcp(co: ConnectOptions, signal?: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let conn = signal ? conns.get(signal) : undefined;
    if (!conn || !conn.idle) {
      conn = newConn();
      if (signal) conns.set(signal, conn);
    }
    const c = conn;
    c.idle = false;
    const finish = settleOnce(resolve, co.connectTimeoutMs, `connect timeout after ${co.connectTimeoutMs} ms`, signal, () => {
      c.finish = null;
      // an orderly close (FIN), as keepalived's close(): an RST would make the real
      // server log "connection reset by peer" for every check
      c.sock.destroy();
    });
    c.finish = finish;
    const opts: TcpNetConnectOpts = { host: co.connectIp, port: co.connectPort };
    if (co.bindto) opts.localAddress = co.bindto;
    if (co.bindPort) opts.localPort = co.bindPort;
    try {
      c.sock.connect(opts);
    } catch (e) {
      // connect() refused its arguments: this socket's state is unknown, do not reuse it
      if (signal && conns.get(signal) === c) conns.delete(signal);
      finish({ ok: false, detail: e instanceof Error ? e.message : String(e) });
    }
  });
}

/** The socket a checker (its AbortSignal) reconnects, and whether it may reconnect now (tests, diagnostics). */
export function tcpProbeSocket(signal: AbortSignal): { socket: Socket; idle: boolean } | undefined {
  const c = conns.get(signal);
  return c && { socket: c.sock, idle: c.idle };
}
