/**
 * An AgentX (RFC 2741) subagent session over a unix or TCP stream, built on our own codec
 * (./agentx-pdu — see there why not net-snmp's Subagent):
 *
 *  - stream re-framing: several PDUs per read and PDUs split across reads (AgentxFramer);
 *  - transports: `unix:PATH` (default unix:/var/agentx/master, as keepalived and net-snmp),
 *    `tcp:HOST:PORT`, and the other spellings keepalived's snmp_socket accepts
 *    (net-snmp transport specifiers);
 *  - every request we send (Open, Register, AddAgentCaps, Notify, Ping, Close) has a
 *    timeout; an unanswered one means the master is gone or wedged → reconnect;
 *  - periodic agentx-Ping (RFC 2741 §6.2.12) to notice a master that vanished without
 *    closing the stream;
 *  - reconnect with backoff (50 ms doubling, capped at 1 s) → re-Open → re-Register every
 *    subtree → re-AddAgentCaps, so a restarted snmpd serves our MIBs again within ~1 s of
 *    listening (keepalived#1083 / net-snmp npm #224 are the failure this avoids); for a unix
 *    socket we also watch its directory and retry as soon as the socket reappears;
 *  - registrations strictly one at a time, each waiting for its Response (net-snmp's
 *    master mis-handles pipelined Registers: npm-feasibility.md §3);
 *  - malformed PDUs from the master never throw: a bad PDU gets a parseError Response
 *    (RFC 2741 §7.2.2) when its header is readable, and a lost frame boundary closes the
 *    session (Close reasonParseError) and reconnects.
 *
 * Nothing here throws across an event-loop boundary; failures become status/journal values.
 */
import { watch, type FSWatcher } from 'node:fs';
import net from 'node:net';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AgentxFramer,
  AxError,
  CloseReason,
  PduType,
  VT,
  decodePdu,
  encodePdu,
  type Pdu,
  type VarBind,
} from './agentx-pdu';
import { MibView, type MibContext, type MibModule, type PreparedSet } from './mib';
import type { Oid } from './oid';
import type { SnapshotProvider } from '../state/snapshot';

export const DEFAULT_AGENTX_SOCKET = 'unix:/var/agentx/master';
const AGENTX_PORT = 705;
/** snmpTrapOID.0 (RFC 3418) */
const SNMP_TRAP_OID: Oid = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

export type AgentxAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * Parse keepalived's `snmp_socket` (a net-snmp transport specifier, as snmpd's
 * agentXSocket): "unix:/path", "/path", "tcp:host:port", "tcp:host", "host:port",
 * "tcp6:[::1]:705", "tcp6:::1". UDP is refused: AgentX needs a stream (RFC 2741 §8).
 */
export function parseAgentxSocket(spec: string | undefined): { ok: true; address: AgentxAddress } | { ok: false; error: string } {
  const s = (spec ?? '').trim() || DEFAULT_AGENTX_SOCKET;
  const bad = (why: string) => ({ ok: false as const, error: `snmp_socket "${s}": ${why}` });
  if (s.startsWith('/')) return { ok: true, address: { kind: 'unix', path: s } };
  let rest = s;
  let v6 = false;
  const m = /^([A-Za-z][A-Za-z0-9]*):(.*)$/.exec(s);
  if (m && !/^\d+$/.test(m[2])) {
    const domain = m[1].toLowerCase();
    if (domain === 'unix' || domain === 'local') {
      return m[2] ? { ok: true, address: { kind: 'unix', path: m[2] } } : bad('empty unix socket path');
    }
    if (domain === 'tcp') rest = m[2];
    else if (domain === 'tcp6' || domain === 'tcpv6' || domain === 'tcpipv6') {
      rest = m[2];
      v6 = true;
    } else if (/^(udp|udp6|udpv6|udpipv6|ipv6|dtlsudp|tls|tlstcp|ssh)$/.test(domain)) {
      return bad('AgentX needs a stream transport (unix or tcp)');
    } else return bad(`unknown transport "${m[1]}"`);
  }
  // what is left: [v6addr]:port | host:port | host | port
  let host: string;
  let port = AGENTX_PORT;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (br) {
    host = br[1];
    if (br[2] !== undefined) port = Number(br[2]);
  } else if (v6 && rest.split(':').length > 2) {
    host = rest; // tcp6:::1 — a port needs brackets (net-snmp)
  } else if (/^\d+$/.test(rest)) {
    host = v6 ? '::1' : 'localhost';
    port = Number(rest);
  } else {
    const i = rest.lastIndexOf(':');
    host = i >= 0 ? rest.slice(0, i) : rest;
    if (i >= 0) {
      const p = rest.slice(i + 1);
      if (!/^\d+$/.test(p)) return bad(`bad port "${p}"`);
      port = Number(p);
    }
  }
  if (!host) host = v6 ? '::1' : 'localhost';
  if (!(port >= 1 && port <= 65535)) return bad(`port ${port} out of range`);
  return { ok: true, address: { kind: 'tcp', host, port } };
}

export function formatAgentxAddress(a: AgentxAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export interface AgentxStateEvent {
  connected: boolean;
  reconnects: number;
  error?: string;
  /** ms from losing the master to being registered again (only on reconnection) */
  recoveryMs?: number;
}

export interface AgentxTiming {
  /** per request sent to the master (Open, Register, Notify, Ping, Close); default 5000 */
  requestTimeoutMs?: number;
  /** agentx-Ping period while connected; default 15000; 0 disables */
  pingIntervalMs?: number;
  /** first reconnect delay, doubled per failed attempt; default 50 */
  backoffMinMs?: number;
  /** reconnect delay cap; default 1000 */
  backoffMaxMs?: number;
}

export interface AgentxOptions extends AgentxTiming {
  address: AgentxAddress;
  /** o.descr of the Open PDU */
  description: string;
  /** o.id of the Open PDU (RFC 2741 §6.2.1: an identifier for the subagent); default null OID */
  id?: Oid;
  modules: MibModule[];
  snapshot: SnapshotProvider;
  onState?: (e: AgentxStateEvent) => void;
  /** notifications buffered while not connected (oldest dropped first); default 64 */
  maxQueuedNotifications?: number;
  /** buffered notifications older than this are dropped at reconnect; default 60000 */
  maxQueuedAgeMs?: number;
  /** wall clock for MIB values; default Date.now */
  wallClock?: () => number;
}

export interface AgentxStatus {
  connected: boolean;
  reconnects: number;
  sessionId?: number;
  lastError?: string;
  /** registrations the master refused (e.g. duplicateRegistration) */
  refused: string[];
  /** request PDUs answered with genErr/parseError since start */
  requestErrors: number;
  queuedNotifications: number;
}

export type NotifyResult = { ok: true } | { ok: false; error: string };

type Phase = 'idle' | 'connecting' | 'opening' | 'registering' | 'ready' | 'stopped';
type Reply = { ok: true; pdu: Extract<Pdu, { type: typeof PduType.Response }> } | { ok: false; error: string };

interface Pending {
  resolve(r: Reply): void;
  timer: NodeJS.Timeout;
}

interface Queued {
  trapOid: Oid;
  varbinds: VarBind[];
  at: number;
  resolve(r: NotifyResult): void;
}

const errName = (code: number): string => {
  for (const [k, v] of Object.entries(AxError)) if (v === code) return k;
  return String(code);
};

export class AgentxSession {
  private readonly view: MibView;
  private readonly requestTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly wall: () => number;
  private phase: Phase = 'idle';
  private sock?: net.Socket;
  private gen = 0;
  private sessionId = 0;
  private packetSeq = Math.floor(Math.random() * 0x7fffffff);
  private pending = new Map<number, Pending>();
  private transactions = new Map<string, { prepared: PreparedSet[]; committed: number }>();
  private reconnectTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private attempt = 0;
  private reconnects = 0;
  private everReady = false;
  private downReported = false;
  private lostAt?: number;
  private lastError?: string;
  private refused: string[] = [];
  private requestErrors = 0;
  private queue: Queued[] = [];
  private masterBootWall?: number;
  private watcher?: FSWatcher;

  constructor(private readonly opts: AgentxOptions) {
    this.view = new MibView(opts.modules);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 15000;
    this.backoffMinMs = opts.backoffMinMs ?? 50;
    this.backoffMaxMs = opts.backoffMaxMs ?? 1000;
    this.wall = opts.wallClock ?? Date.now;
  }

  start(): void {
    if (this.phase !== 'idle' || this.reconnectTimer) return;
    this.connect();
  }

  status(): AgentxStatus {
    return {
      connected: this.phase === 'ready',
      reconnects: this.reconnects,
      sessionId: this.phase === 'ready' ? this.sessionId : undefined,
      lastError: this.lastError,
      refused: [...this.refused],
      requestErrors: this.requestErrors,
      queuedNotifications: this.queue.length,
    };
  }

  /** Send an SNMPv2 notification (RFC 2741 §6.2.10); queued while the master is away. */
  notify(trapOid: Oid, varbinds: VarBind[]): Promise<NotifyResult> {
    if (this.phase === 'stopped') return Promise.resolve({ ok: false, error: 'SNMP stopped' });
    return new Promise((resolve) => {
      const q: Queued = { trapOid, varbinds, at: performance.now(), resolve };
      if (this.phase === 'ready') {
        void this.sendNotify(q);
        return;
      }
      this.queue.push(q);
      const max = this.opts.maxQueuedNotifications ?? 64;
      while (this.queue.length > max) this.queue.shift()?.resolve({ ok: false, error: 'AgentX master unavailable: notification queue full' });
    });
  }

  /** Close the session (agentx-Close reasonShutdown, RFC 2741 §6.2.2) and stop reconnecting. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    const wasReady = this.phase === 'ready';
    this.phase = 'stopped';
    this.unwatch();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pingTimer);
    for (const q of this.queue.splice(0)) q.resolve({ ok: false, error: 'SNMP stopped' });
    const sock = this.sock;
    if (sock && wasReady && !sock.destroyed) {
      // Wait (bounded) for the master's Response so it drops our registrations now rather
      // than when it notices the closed stream.
      await this.request({ type: PduType.Close, sessionId: this.sessionId, transactionId: 0, packetId: this.nextPacketId(), reason: CloseReason.Shutdown }, Math.min(this.requestTimeoutMs, 1000));
    }
    this.teardown('stopped');
    if (sock && !sock.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          sock.destroy();
          resolve();
        }, 500);
        t.unref();
        sock.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        sock.end();
      });
    }
  }

  // ---- connection lifecycle ------------------------------------------------------------

  private connect(): void {
    if (this.phase === 'stopped') return;
    this.reconnectTimer = undefined;
    const gen = ++this.gen;
    this.phase = 'connecting';
    const a = this.opts.address;
    let sock: net.Socket;
    try {
      sock = a.kind === 'unix' ? net.createConnection({ path: a.path }) : net.createConnection({ host: a.host, port: a.port });
    } catch (e) {
      this.lost(gen, e instanceof Error ? e.message : String(e));
      return;
    }
    this.sock = sock;
    const framer = new AgentxFramer();
    const connectTimer = setTimeout(() => sock.destroy(new Error(`connect to ${formatAgentxAddress(a)} timed out`)), this.requestTimeoutMs);
    connectTimer.unref();
    sock.on('connect', () => {
      clearTimeout(connectTimer);
      if (a.kind === 'tcp') sock.setNoDelay(true);
      if (gen === this.gen) void this.handshake(gen);
    });
    sock.on('data', (chunk: Buffer) => {
      if (gen !== this.gen) return;
      try {
        for (const ev of framer.push(chunk)) {
          if ('fatal' in ev) {
            this.protocolFailure(gen, ev.fatal);
            return;
          }
          this.onFrame(ev.frame);
          if (gen !== this.gen) return;
        }
      } catch (e) {
        // Defensive: a bug in request handling must not escape the socket listener.
        this.protocolFailure(gen, `internal error handling a PDU: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    let sockError: string | undefined;
    sock.on('error', (e: Error) => {
      sockError = e.message;
    });
    sock.on('close', () => {
      clearTimeout(connectTimer);
      this.lost(gen, sockError ?? 'connection closed by the master agent');
    });
  }

  /** Open, then register each subtree strictly in sequence (RFC 2741 §7.1.1, §7.1.4). */
  private async handshake(gen: number): Promise<void> {
    this.phase = 'opening';
    this.lastError = undefined;
    const open = await this.request({
      type: PduType.Open,
      sessionId: 0,
      transactionId: 0,
      packetId: this.nextPacketId(),
      timeout: 0, // the master's default (net-snmp: agentXTimeout)
      id: this.opts.id ?? [],
      descr: Buffer.from(this.opts.description),
    });
    if (gen !== this.gen) return;
    if (!open.ok) return this.fail(gen, `agentx-Open: ${open.error}`);
    if (open.pdu.error !== AxError.NoError) return this.fail(gen, `agentx-Open refused: ${errName(open.pdu.error)}`);
    this.sessionId = open.pdu.sessionId;
    this.noteUptime(open.pdu.sysUpTime, true);
    this.phase = 'registering';
    this.refused = [];
    for (const m of this.opts.modules) {
      const reg = await this.request({
        type: PduType.Register,
        sessionId: this.sessionId,
        transactionId: 0,
        packetId: this.nextPacketId(),
        timeout: 0,
        priority: 127, // RFC 2741 §6.2.3 default
        rangeSubid: 0,
        subtree: m.root,
      });
      if (gen !== this.gen) return;
      if (!reg.ok) return this.fail(gen, `agentx-Register ${m.name}: ${reg.error}`);
      this.noteUptime(reg.pdu.sysUpTime);
      if (reg.pdu.error !== AxError.NoError) {
        // e.g. duplicateRegistration: another subagent (a real keepalived?) owns it. Keep the
        // rest of the session; the refusal is visible in status() and the journal.
        this.refused.push(`${m.name}: ${errName(reg.pdu.error)}`);
        this.lastError = `agentx-Register ${m.name} refused: ${errName(reg.pdu.error)}`;
        continue;
      }
      // sysORTable entry, as keepalived's register_sysORTable() does for each MIB
      const caps = await this.request({
        type: PduType.AddAgentCaps,
        sessionId: this.sessionId,
        transactionId: 0,
        packetId: this.nextPacketId(),
        id: m.root,
        descr: Buffer.from(m.descr),
      });
      if (gen !== this.gen) return;
      if (!caps.ok) return this.fail(gen, `agentx-AddAgentCaps ${m.name}: ${caps.error}`);
    }
    this.phase = 'ready';
    this.attempt = 0;
    this.unwatch();
    const recoveryMs = this.everReady && this.lostAt !== undefined ? Math.round(performance.now() - this.lostAt) : undefined;
    if (this.everReady) this.reconnects++;
    this.everReady = true;
    this.downReported = false;
    this.lostAt = undefined;
    this.opts.onState?.({ connected: true, reconnects: this.reconnects, recoveryMs, error: this.refused.length ? this.lastError : undefined });
    this.schedulePing(gen);
    this.flushQueue();
  }

  private schedulePing(gen: number): void {
    clearTimeout(this.pingTimer);
    if (!this.pingIntervalMs) return;
    this.pingTimer = setTimeout(() => void this.ping(gen), this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private async ping(gen: number): Promise<void> {
    if (gen !== this.gen || this.phase !== 'ready') return;
    const r = await this.request({ type: PduType.Ping, sessionId: this.sessionId, transactionId: 0, packetId: this.nextPacketId() });
    if (gen !== this.gen) return;
    if (!r.ok) return this.fail(gen, `agentx-Ping: ${r.error}`);
    if (r.pdu.error !== AxError.NoError) return this.fail(gen, `agentx-Ping: ${errName(r.pdu.error)}`);
    this.noteUptime(r.pdu.sysUpTime);
    this.schedulePing(gen);
  }

  /** A protocol-level failure: say why (Close), then drop the stream and reconnect. */
  private protocolFailure(gen: number, why: string): void {
    if (gen !== this.gen) return;
    this.lastError = why;
    const sock = this.sock;
    if (sock && !sock.destroyed && this.sessionId) {
      try {
        sock.write(encodePdu({ type: PduType.Close, sessionId: this.sessionId, transactionId: 0, packetId: this.nextPacketId(), reason: CloseReason.ParseError }));
      } catch {
        /* the stream is going away anyway */
      }
    }
    this.fail(gen, why);
  }

  private fail(gen: number, why: string): void {
    if (gen !== this.gen) return;
    this.lastError = why;
    this.sock?.destroy();
    this.lost(gen, why);
  }

  /** The stream for generation `gen` is gone: report once, clean up, schedule a reconnect. */
  private lost(gen: number, why: string): void {
    if (gen !== this.gen) return;
    this.gen++;
    const wasReady = this.phase === 'ready';
    this.teardown(why);
    if (this.phase === 'stopped') return;
    this.phase = 'idle';
    this.lastError = why;
    if (wasReady) this.lostAt = performance.now();
    if (wasReady || !this.downReported) {
      this.downReported = true;
      this.opts.onState?.({ connected: false, reconnects: this.reconnects, error: why });
    }
    const delay = Math.min(this.backoffMaxMs, this.backoffMinMs * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
    this.watchSocket();
  }

  /**
   * While waiting to reconnect to a unix socket, watch its directory: snmpd re-creates the
   * socket when it restarts, and we can connect at once instead of at the next backoff
   * step. bind() creates the file just before listen(), so an immediate attempt may still
   * be refused — hence the backoff restarts from its minimum.
   */
  private watchSocket(): void {
    if (this.watcher || this.opts.address.kind !== 'unix') return;
    const path = this.opts.address.path;
    try {
      const w = watch(dirname(path), (_event, name) => {
        if (name !== basename(path) || this.phase !== 'idle' || !this.reconnectTimer) return;
        clearTimeout(this.reconnectTimer);
        this.attempt = 0;
        this.connect();
      });
      w.on('error', () => this.unwatch());
      w.unref();
      this.watcher = w;
    } catch {
      // directory missing or not watchable: the backoff alone will do
    }
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private teardown(why: string): void {
    clearTimeout(this.pingTimer);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ ok: false, error: why });
    }
    this.transactions.clear();
    if (this.sock && !this.sock.destroyed && this.phase !== 'stopped') this.sock.destroy();
  }

  /**
   * RFC 2741 §6.2.16 res.sysUpTime is the master's sysUpTime.0 (centiseconds). Each answer
   * gives boot ≤ now - sysUpTime×10 (transit delay and truncation only add), so the best
   * estimate is the smallest seen since this session's Open (a new master restarts it).
   */
  private noteUptime(sysUpTime: number, fresh = false): void {
    const est = this.wall() - sysUpTime * 10;
    this.masterBootWall = fresh || this.masterBootWall === undefined ? est : Math.min(this.masterBootWall, est);
  }

  private nextPacketId(): number {
    this.packetSeq = (this.packetSeq + 1) >>> 0 || 1;
    return this.packetSeq;
  }

  private request(pdu: Pdu, timeoutMs = this.requestTimeoutMs): Promise<Reply> {
    const sock = this.sock;
    if (!sock || sock.destroyed || !sock.writable) return Promise.resolve({ ok: false, error: 'not connected' });
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(pdu.packetId);
        resolve({ ok: false, error: `no response within ${timeoutMs} ms` });
      }, timeoutMs);
      timer.unref();
      this.pending.set(pdu.packetId, { resolve, timer });
      sock.write(encodePdu(pdu));
    });
  }

  // ---- notifications -------------------------------------------------------------------

  private flushQueue(): void {
    const maxAge = this.opts.maxQueuedAgeMs ?? 60_000;
    const now = performance.now();
    for (const q of this.queue.splice(0)) {
      if (now - q.at > maxAge) q.resolve({ ok: false, error: 'AgentX master unavailable: notification expired' });
      else void this.sendNotify(q);
    }
  }

  private async sendNotify(q: Queued): Promise<void> {
    const gen = this.gen;
    const r = await this.request({
      type: PduType.Notify,
      sessionId: this.sessionId,
      transactionId: 0,
      packetId: this.nextPacketId(),
      varbinds: [{ oid: SNMP_TRAP_OID, value: { type: VT.ObjectIdentifier, value: q.trapOid } }, ...q.varbinds],
    });
    if (!r.ok) {
      q.resolve({ ok: false, error: r.error });
      // an unanswered Notify means the master is not processing our session
      if (r.error.startsWith('no response')) this.fail(gen, `agentx-Notify: ${r.error}`);
      return;
    }
    q.resolve(r.pdu.error === AxError.NoError ? { ok: true } : { ok: false, error: `agentx-Notify: ${errName(r.pdu.error)}` });
  }

  // ---- requests from the master --------------------------------------------------------

  private onFrame(frame: Buffer): void {
    const d = decodePdu(frame);
    if (!d.ok) {
      this.requestErrors++;
      this.lastError = `bad PDU from master: ${d.error}`;
      const h = d.header;
      // RFC 2741 §7.2.2: answer a request we cannot parse with parseError, if it was one
      if (h && h.type >= PduType.Get && h.type <= PduType.UndoSet) {
        this.reply(h.sessionId, h.transactionId, h.packetId, AxError.ParseError, 0, []);
      }
      return;
    }
    const pdu = d.pdu;
    switch (pdu.type) {
      case PduType.Response: {
        const p = this.pending.get(pdu.packetId);
        if (!p) return; // late answer to a request that already timed out
        clearTimeout(p.timer);
        this.pending.delete(pdu.packetId);
        p.resolve({ ok: true, pdu });
        return;
      }
      case PduType.Close:
        // the master ends our session (RFC 2741 §7.1.3); reconnect and register again
        this.fail(this.gen, `master closed the session (reason ${pdu.reason})`);
        return;
      case PduType.Get:
      case PduType.GetNext:
      case PduType.GetBulk:
      case PduType.TestSet:
      case PduType.CommitSet:
      case PduType.UndoSet:
      case PduType.CleanupSet:
        this.handleRequest(pdu);
        return;
      default:
        // administrative PDUs flow subagent → master only; ignore strays
        return;
    }
  }

  private context(): MibContext {
    return { snap: this.opts.snapshot(), now: this.wall(), masterBootWall: this.masterBootWall, memo: new Map() };
  }

  private handleRequest(pdu: Pdu): void {
    const reply = (error: number, index: number, varbinds: VarBind[]) => this.reply(pdu.sessionId, pdu.transactionId, pdu.packetId, error, index, varbinds);
    const key = `${pdu.sessionId}:${pdu.transactionId}`;
    try {
      switch (pdu.type) {
        case PduType.Get: {
          if (pdu.context) return reply(0, 0, pdu.ranges.map((r) => ({ oid: r.start, value: { type: VT.NoSuchObject } })));
          const ctx = this.context();
          return reply(0, 0, pdu.ranges.map((r) => ({ oid: r.start, value: this.view.get(r.start, ctx) })));
        }
        case PduType.GetNext: {
          if (pdu.context) return reply(0, 0, pdu.ranges.map((r) => ({ oid: r.start, value: { type: VT.EndOfMibView } })));
          const ctx = this.context();
          return reply(0, 0, pdu.ranges.map((r) => this.view.getNext(r, ctx)));
        }
        case PduType.GetBulk: {
          if (pdu.context) return reply(0, 0, pdu.ranges.map((r) => ({ oid: r.start, value: { type: VT.EndOfMibView } })));
          return reply(0, 0, this.view.getBulk(pdu.nonRepeaters, pdu.maxRepetitions, pdu.ranges, this.context()));
        }
        case PduType.TestSet: {
          if (pdu.context) return reply(AxError.NotWritable, 1, []);
          const t = this.view.testSet(pdu.varbinds, this.context());
          if (t.error === AxError.NoError) this.transactions.set(key, { prepared: t.prepared, committed: 0 });
          return reply(t.error, t.index, []);
        }
        case PduType.CommitSet: {
          const tx = this.transactions.get(key);
          if (!tx) return reply(AxError.CommitFailed, 0, []);
          for (let i = 0; i < tx.prepared.length; i++) {
            const r = tx.prepared[i].commit();
            if (!r.ok) {
              this.lastError = `SNMP set failed: ${r.error}`;
              return reply(AxError.CommitFailed, i + 1, []);
            }
            tx.committed = i + 1;
          }
          return reply(AxError.NoError, 0, []);
        }
        case PduType.UndoSet: {
          const tx = this.transactions.get(key);
          if (!tx) return reply(AxError.NoError, 0, []);
          for (let i = tx.committed - 1; i >= 0; i--) {
            const r = tx.prepared[i].undo();
            if (!r.ok) return reply(AxError.UndoFailed, i + 1, []);
          }
          tx.committed = 0;
          return reply(AxError.NoError, 0, []);
        }
        case PduType.CleanupSet:
          // RFC 2741 §7.2.4.4: no Response to CleanupSet
          this.transactions.delete(key);
          return;
        default:
          return;
      }
    } catch (e) {
      this.requestErrors++;
      this.lastError = `request handling failed: ${e instanceof Error ? e.message : String(e)}`;
      if (pdu.type !== PduType.CleanupSet) reply(AxError.GenErr, 1, []);
    }
  }

  private reply(sessionId: number, transactionId: number, packetId: number, error: number, index: number, varbinds: VarBind[]): void {
    const sock = this.sock;
    if (!sock || sock.destroyed || !sock.writable) return;
    sock.write(encodePdu({ type: PduType.Response, sessionId, transactionId, packetId, sysUpTime: 0, error, index, varbinds }));
  }
}
