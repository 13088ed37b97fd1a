/**
 * A scriptable AgentX master agent (RFC 2741) for tests: it answers the administrative PDUs
 * a subagent sends, records everything it receives, and can send any bytes — valid
 * requests, split or coalesced frames, or garbage — to the connected subagent.
 */
import net from 'node:net';
import { AgentxFramer, AxError, PduType, decodePdu, encodePdu, type Pdu } from '../../src/snmp/agentx-pdu';

export type ResponsePdu = Extract<Pdu, { type: typeof PduType.Response }>;

export interface FakeMasterOptions {
  /** unix socket path, or a TCP port on 127.0.0.1 */
  listen: { path: string } | { port: number };
  /** delay before answering Register (to catch pipelining), ms */
  registerDelayMs?: number;
  /** return 'ignore' to not answer, a number to answer with that res.error */
  policy?: (pdu: Pdu, conn: number) => 'ignore' | number | undefined;
}

export class FakeMaster {
  readonly received: { conn: number; pdu: Pdu }[] = [];
  readonly decodeErrors: string[] = [];
  connections = 0;
  maxOutstandingRegisters = 0;
  private outstandingRegisters = 0;
  private server?: net.Server;
  private sock?: net.Socket;
  private sessionSeq = 100;
  private packetSeq = 5000;
  private waiters = new Map<number, (r: ResponsePdu) => void>();
  readonly bootedAt = Date.now();

  constructor(readonly opts: FakeMasterOptions) {}

  start(): Promise<void> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      if ('path' in this.opts.listen) server.listen(this.opts.listen.path, () => resolve());
      else server.listen(this.opts.listen.port, '127.0.0.1', () => resolve());
    });
  }

  /** Close the listener and every connection (like snmpd exiting). */
  async stop(): Promise<void> {
    this.sock?.destroy();
    this.sock = undefined;
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  connected(): boolean {
    return !!this.sock && !this.sock.destroyed;
  }

  /** PDUs of a type received on a connection (all connections if conn undefined). */
  of(type: number, conn?: number): Pdu[] {
    return this.received.filter((r) => r.pdu.type === type && (conn === undefined || r.conn === conn)).map((r) => r.pdu);
  }

  sessionId(): number {
    return this.sessionSeq;
  }

  write(buf: Buffer): void {
    this.sock?.write(buf);
  }

  nextPacketId(): number {
    return ++this.packetSeq;
  }

  /** Send a request PDU (packetId assigned if 0) and wait for the subagent's Response. */
  request(pdu: Pdu, timeoutMs = 5000): Promise<ResponsePdu> {
    const p = { ...pdu, packetId: pdu.packetId || this.nextPacketId(), sessionId: pdu.sessionId || this.sessionSeq };
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(p.packetId);
        reject(new Error(`no response to packet ${p.packetId} (type ${p.type})`));
      }, timeoutMs);
      this.waiters.set(p.packetId, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.write(encodePdu(p as Pdu));
    });
  }

  /** Register a waiter for a response to a packet id we send by hand. */
  expectResponse(packetId: number, timeoutMs = 5000): Promise<ResponsePdu> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(packetId);
        reject(new Error(`no response to packet ${packetId}`));
      }, timeoutMs);
      this.waiters.set(packetId, (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  private accept(s: net.Socket): void {
    this.sock?.destroy();
    this.sock = s;
    const conn = ++this.connections;
    const framer = new AgentxFramer();
    s.on('error', () => {});
    s.on('data', (chunk) => {
      for (const ev of framer.push(chunk)) {
        if ('fatal' in ev) {
          this.decodeErrors.push(ev.fatal);
          s.destroy();
          return;
        }
        const d = decodePdu(ev.frame);
        if (!d.ok) {
          this.decodeErrors.push(d.error);
          continue;
        }
        this.received.push({ conn, pdu: d.pdu });
        this.onPdu(s, conn, d.pdu);
      }
    });
  }

  private answer(s: net.Socket, p: Pdu, error = 0): void {
    if (s.destroyed) return;
    const sysUpTime = Math.floor((Date.now() - this.bootedAt) / 10);
    s.write(encodePdu({ type: PduType.Response, sessionId: p.type === PduType.Open ? this.sessionSeq : p.sessionId, transactionId: p.transactionId, packetId: p.packetId, sysUpTime, error, index: 0, varbinds: [] }));
  }

  private onPdu(s: net.Socket, conn: number, p: Pdu): void {
    if (p.type === PduType.Response) {
      const w = this.waiters.get(p.packetId);
      if (w) {
        this.waiters.delete(p.packetId);
        w(p);
      }
      return;
    }
    const verdict = this.opts.policy?.(p, conn);
    if (verdict === 'ignore') return;
    const err = typeof verdict === 'number' ? verdict : AxError.NoError;
    switch (p.type) {
      case PduType.Open:
        this.sessionSeq++;
        this.answer(s, p, err);
        return;
      case PduType.Register: {
        this.outstandingRegisters++;
        this.maxOutstandingRegisters = Math.max(this.maxOutstandingRegisters, this.outstandingRegisters);
        setTimeout(() => {
          this.outstandingRegisters--;
          this.answer(s, p, err);
        }, this.opts.registerDelayMs ?? 0);
        return;
      }
      case PduType.Close:
        this.answer(s, p, err);
        s.end();
        return;
      default:
        this.answer(s, p, err);
    }
  }
}
