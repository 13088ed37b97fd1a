/**
 * TCP_CHECK: a TCP connect to connect_ip:connect_port (default the real server),
 * optionally from bindto[:bind_port], within connect_timeout. Connected = success; the
 * connection is closed at once (keepalived check_tcp.c tcp_check_thread).
 */
import { connect, type Socket } from 'node:net';
import { settleOnce } from './probe-settle';
import type { ConnectOptions, ProbeOutcome } from './types';

export function probeTcp(co: ConnectOptions, signal?: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let sock: Socket | undefined;
    const finish = settleOnce(resolve, co.connectTimeoutMs, `connect timeout after ${co.connectTimeoutMs} ms`, signal, () => {
      if (!sock) return;
      // late errors after we decided must not become uncaught exceptions
      sock.on('error', () => undefined);
      // an orderly close (FIN), as keepalived's close(): an RST would make the real
      // server log "connection reset by peer" for every check
      sock.destroy();
    });
    try {
      sock = connect({
        host: co.connectIp,
        port: co.connectPort,
        ...(co.bindto ? { localAddress: co.bindto } : {}),
        ...(co.bindPort ? { localPort: co.bindPort } : {}),
      });
    } catch (e) {
      finish({ ok: false, detail: e instanceof Error ? e.message : String(e) });
      return;
    }
    sock.once('connect', () => finish({ ok: true }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: e.code ?? e.message }));
  });
}
