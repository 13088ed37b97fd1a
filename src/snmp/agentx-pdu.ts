/**
 * AgentX (RFC 2741) PDU codec and stream framer — our own, pure, no I/O.
 *
 * Why not net-snmp's Subagent (npm net-snmp 3.29.2, lib index.js)? It parses every socket
 * `data` event as exactly one PDU (no stream framing: coalesced or split reads corrupt it),
 * the parse runs outside its try/catch (a garbled PDU throws out of the socket listener),
 * GetNext/GetBulk ignore the search-range end and `include` flag, GetBulk repetitions read
 * an undefined field, it is TCP-only, has no request timeouts, no ping and no reconnect, and
 * its Mib model drops empty tables and needs IF-MIB providers for ifIndex-indexed tables
 * (shared/research/npm-feasibility.md §3, observability-anchors.md §6). Wrapping all that
 * would mean replacing most of it, while the wire format is small: a 20-octet header plus
 * four encodings (RFC 2741 §5). So keepwatch owns the codec and uses net-snmp for nothing
 * here (AgentX does not use BER).
 *
 * Decoding never throws: it returns `{ ok: false, error }` values (design.md "errors are
 * values at the edges").
 *
 * RFC 2741 §6.1 header (20 octets):
 *
 *    0               1               2               3
 *   +---------------+---------------+---------------+---------------+
 *   |   h.version   |    h.type     |    h.flags    |  <reserved>   |
 *   +---------------+---------------+---------------+---------------+
 *   |                          h.sessionID                          |
 *   +---------------------------------------------------------------+
 *   |                        h.transactionID                        |
 *   +---------------------------------------------------------------+
 *   |                          h.packetID                           |
 *   +---------------------------------------------------------------+
 *   |                        h.payload_length                       |
 *   +---------------------------------------------------------------+
 *
 * RFC 2741 §5.1 Object Identifier:
 *
 *   +---------------+---------------+---------------+---------------+
 *   |    n_subid    |    prefix     |    include    |  <reserved>   |
 *   +---------------+---------------+---------------+---------------+
 *   |                      sub-identifier #1 ... #n_subid           |
 *   +---------------------------------------------------------------+
 *
 *   prefix != 0 means the OID is 1.3.6.1.<prefix>.<sub-identifiers>.
 */
import type { Oid } from './oid';

export const AGENTX_VERSION = 1;
export const HEADER_LEN = 20;

/** RFC 2741 §6.1 h.type */
export const PduType = {
  Open: 1,
  Close: 2,
  Register: 3,
  Unregister: 4,
  Get: 5,
  GetNext: 6,
  GetBulk: 7,
  TestSet: 8,
  CommitSet: 9,
  UndoSet: 10,
  CleanupSet: 11,
  Notify: 12,
  Ping: 13,
  IndexAllocate: 14,
  IndexDeallocate: 15,
  AddAgentCaps: 16,
  RemoveAgentCaps: 17,
  Response: 18,
} as const;
export type PduTypeCode = (typeof PduType)[keyof typeof PduType];

/** RFC 2741 §6.1 h.flags bits */
export const Flag = {
  InstanceRegistration: 0x01,
  NewIndex: 0x02,
  AnyIndex: 0x04,
  NonDefaultContext: 0x08,
  NetworkByteOrder: 0x10,
} as const;

/** RFC 2741 §5.4 value types */
export const VT = {
  Integer: 2,
  OctetString: 4,
  Null: 5,
  ObjectIdentifier: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

/** RFC 2741 §6.2.2 close reasons */
export const CloseReason = { Other: 1, ParseError: 2, ProtocolError: 3, Timeouts: 4, Shutdown: 5, ByManager: 6 } as const;

/** RFC 2741 §6.2.16 res.error (administrative) plus the SNMP error-status values of RFC 3416 §3. */
export const AxError = {
  NoError: 0,
  TooBig: 1,
  GenErr: 5,
  NoAccess: 6,
  WrongType: 7,
  WrongLength: 8,
  WrongValue: 10,
  NoCreation: 11,
  InconsistentValue: 12,
  ResourceUnavailable: 13,
  CommitFailed: 14,
  UndoFailed: 15,
  NotWritable: 17,
  InconsistentName: 18,
  OpenFailed: 256,
  NotOpen: 257,
  IndexWrongType: 258,
  IndexAlreadyAllocated: 259,
  IndexNoneAvailable: 260,
  IndexNotAllocated: 261,
  UnsupportedContext: 262,
  DuplicateRegistration: 263,
  UnknownRegistration: 264,
  UnknownAgentCaps: 265,
  ParseError: 266,
  RequestDenied: 267,
  ProcessingError: 268,
} as const;

export type Value =
  | { type: typeof VT.Integer; value: number }
  | { type: typeof VT.OctetString | typeof VT.IpAddress | typeof VT.Opaque; value: Buffer }
  | { type: typeof VT.ObjectIdentifier; value: Oid }
  | { type: typeof VT.Counter32 | typeof VT.Gauge32 | typeof VT.TimeTicks; value: number }
  | { type: typeof VT.Counter64; value: bigint }
  | { type: typeof VT.Null | typeof VT.NoSuchObject | typeof VT.NoSuchInstance | typeof VT.EndOfMibView };

export interface VarBind {
  oid: Oid;
  value: Value;
}

export interface SearchRange {
  start: Oid;
  include: boolean;
  /** empty = unbounded */
  end: Oid;
}

export interface Header {
  version: number;
  type: number;
  flags: number;
  sessionId: number;
  transactionId: number;
  packetId: number;
  payloadLength: number;
}

interface Base {
  sessionId: number;
  transactionId: number;
  packetId: number;
  /** flags other than NETWORK_BYTE_ORDER/NON_DEFAULT_CONTEXT (the codec sets those) */
  flags?: number;
  /** non-default context (NON_DEFAULT_CONTEXT flag) */
  context?: Buffer;
}

export type Pdu =
  | (Base & { type: typeof PduType.Open; timeout: number; id: Oid; descr: Buffer })
  | (Base & { type: typeof PduType.Close; reason: number })
  | (Base & { type: typeof PduType.Register; timeout: number; priority: number; rangeSubid: number; subtree: Oid; upperBound?: number })
  | (Base & { type: typeof PduType.Unregister; priority: number; rangeSubid: number; subtree: Oid; upperBound?: number })
  | (Base & { type: typeof PduType.Get | typeof PduType.GetNext; ranges: SearchRange[] })
  | (Base & { type: typeof PduType.GetBulk; nonRepeaters: number; maxRepetitions: number; ranges: SearchRange[] })
  | (Base & { type: typeof PduType.TestSet | typeof PduType.Notify | typeof PduType.IndexAllocate | typeof PduType.IndexDeallocate; varbinds: VarBind[] })
  | (Base & { type: typeof PduType.CommitSet | typeof PduType.UndoSet | typeof PduType.CleanupSet | typeof PduType.Ping })
  | (Base & { type: typeof PduType.AddAgentCaps; id: Oid; descr: Buffer })
  | (Base & { type: typeof PduType.RemoveAgentCaps; id: Oid })
  | (Base & { type: typeof PduType.Response; sysUpTime: number; error: number; index: number; varbinds: VarBind[] });

export type DecodeResult = { ok: true; pdu: Pdu } | { ok: false; error: string; header?: Header };

/** RFC 2741 §5.1: "n_subid ... the number (0-128) of sub-identifiers". */
const MAX_SUBIDS = 128;
const INTERNET: Oid = [1, 3, 6, 1];

// ---------------------------------------------------------------------------------------
// Encoding

class Writer {
  private chunks: Buffer[] = [];
  len = 0;
  constructor(private readonly be: boolean) {}
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.len += b.length;
  }
  u8(...v: number[]): void {
    this.push(Buffer.from(v.map((x) => x & 0xff)));
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v & 0xffff);
    else b.writeUInt16LE(v & 0xffff);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    this.push(b);
  }
  u64(v: bigint): void {
    const b = Buffer.alloc(8);
    const x = BigInt.asUintN(64, v);
    if (this.be) b.writeBigUInt64BE(x);
    else b.writeBigUInt64LE(x);
    this.push(b);
  }
  oid(o: Oid, include = false): void {
    let subs = o;
    let prefix = 0;
    // RFC 2741 §5.1: 1.3.6.1.<n>.… with n in 1..255 may be sent as prefix n.
    if (o.length >= 5 && o[0] === 1 && o[1] === 3 && o[2] === 6 && o[3] === 1 && o[4] > 0 && o[4] <= 255) {
      prefix = o[4];
      subs = o.slice(5);
    }
    this.u8(subs.length, prefix, include ? 1 : 0, 0);
    for (const s of subs) this.u32(s);
  }
  octets(b: Buffer): void {
    this.u32(b.length);
    this.push(b);
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) this.push(Buffer.alloc(pad));
  }
  value(v: Value): void {
    switch (v.type) {
      case VT.Integer:
        this.u32(v.value | 0);
        break;
      case VT.Counter32:
      case VT.Gauge32:
      case VT.TimeTicks:
        this.u32(v.value);
        break;
      case VT.Counter64:
        this.u64(v.value);
        break;
      case VT.OctetString:
      case VT.IpAddress:
      case VT.Opaque:
        this.octets(v.value);
        break;
      case VT.ObjectIdentifier:
        this.oid(v.value);
        break;
      default:
        break; // Null, noSuchObject, noSuchInstance, endOfMibView carry no data
    }
  }
  varbind(vb: VarBind): void {
    this.u16(vb.value.type);
    this.u16(0);
    this.oid(vb.oid);
    this.value(vb.value);
  }
  range(r: SearchRange): void {
    this.oid(r.start, r.include);
    this.oid(r.end);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.len);
  }
}

/** Encode a PDU (network byte order by default, as net-snmp and keepalived send). */
export function encodePdu(pdu: Pdu, bigEndian = true): Buffer {
  const w = new Writer(bigEndian);
  let flags = (pdu.flags ?? 0) & ~(Flag.NetworkByteOrder | Flag.NonDefaultContext);
  if (bigEndian) flags |= Flag.NetworkByteOrder;
  const contextual =
    pdu.type !== PduType.Open &&
    pdu.type !== PduType.Close &&
    pdu.type !== PduType.Response &&
    pdu.type !== PduType.CommitSet &&
    pdu.type !== PduType.UndoSet &&
    pdu.type !== PduType.CleanupSet;
  if (contextual && pdu.context) {
    flags |= Flag.NonDefaultContext;
    w.octets(pdu.context);
  }
  switch (pdu.type) {
    case PduType.Open:
      w.u8(pdu.timeout, 0, 0, 0);
      w.oid(pdu.id);
      w.octets(pdu.descr);
      break;
    case PduType.Close:
      w.u8(pdu.reason, 0, 0, 0);
      break;
    case PduType.Register:
      w.u8(pdu.timeout, pdu.priority, pdu.rangeSubid, 0);
      w.oid(pdu.subtree);
      if (pdu.rangeSubid) w.u32(pdu.upperBound ?? 0);
      break;
    case PduType.Unregister:
      w.u8(0, pdu.priority, pdu.rangeSubid, 0);
      w.oid(pdu.subtree);
      if (pdu.rangeSubid) w.u32(pdu.upperBound ?? 0);
      break;
    case PduType.Get:
    case PduType.GetNext:
      for (const r of pdu.ranges) w.range(r);
      break;
    case PduType.GetBulk:
      w.u16(pdu.nonRepeaters);
      w.u16(pdu.maxRepetitions);
      for (const r of pdu.ranges) w.range(r);
      break;
    case PduType.TestSet:
    case PduType.Notify:
    case PduType.IndexAllocate:
    case PduType.IndexDeallocate:
      for (const vb of pdu.varbinds) w.varbind(vb);
      break;
    case PduType.AddAgentCaps:
      w.oid(pdu.id);
      w.octets(pdu.descr);
      break;
    case PduType.RemoveAgentCaps:
      w.oid(pdu.id);
      break;
    case PduType.Response:
      w.u32(pdu.sysUpTime);
      w.u16(pdu.error);
      w.u16(pdu.index);
      for (const vb of pdu.varbinds) w.varbind(vb);
      break;
    default:
      break; // CommitSet, UndoSet, CleanupSet, Ping: header only
  }
  const payload = w.concat();
  const h = Buffer.alloc(HEADER_LEN);
  h.writeUInt8(AGENTX_VERSION, 0);
  h.writeUInt8(pdu.type, 1);
  h.writeUInt8(flags, 2);
  const put = (v: number, off: number) => (bigEndian ? h.writeUInt32BE(v >>> 0, off) : h.writeUInt32LE(v >>> 0, off));
  put(pdu.sessionId, 4);
  put(pdu.transactionId, 8);
  put(pdu.packetId, 12);
  put(payload.length, 16);
  return Buffer.concat([h, payload]);
}

// ---------------------------------------------------------------------------------------
// Decoding

class DecodeError extends Error {}

class Reader {
  pos: number;
  constructor(
    private readonly buf: Buffer,
    private readonly be: boolean,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }
  remaining(): number {
    return this.end - this.pos;
  }
  need(n: number): void {
    if (this.pos + n > this.end) throw new DecodeError(`truncated: need ${n} octets at ${this.pos}, have ${this.end - this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.be ? this.buf.readUInt16BE(this.pos) : this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.be ? this.buf.readUInt32BE(this.pos) : this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.be ? this.buf.readBigUInt64BE(this.pos) : this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  oid(): { oid: Oid; include: boolean } {
    const n = this.u8();
    const prefix = this.u8();
    const include = this.u8();
    this.u8();
    if (n > MAX_SUBIDS) throw new DecodeError(`OID with ${n} sub-identifiers (max ${MAX_SUBIDS})`);
    if (include > 1) throw new DecodeError(`OID include field ${include}`);
    this.need(4 * n);
    const subs: number[] = prefix ? [...INTERNET, prefix] : [];
    for (let i = 0; i < n; i++) subs.push(this.u32());
    return { oid: subs, include: include === 1 };
  }
  octets(): Buffer {
    const len = this.u32();
    const padded = len + ((4 - (len % 4)) % 4);
    if (padded > this.remaining()) throw new DecodeError(`octet string of ${len} octets overruns the PDU`);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += padded;
    return b;
  }
  value(type: number): Value {
    switch (type) {
      case VT.Integer:
        return { type, value: this.u32() | 0 };
      case VT.Counter32:
      case VT.Gauge32:
      case VT.TimeTicks:
        return { type, value: this.u32() };
      case VT.Counter64:
        return { type, value: this.u64() };
      case VT.OctetString:
      case VT.Opaque:
        return { type, value: this.octets() };
      case VT.IpAddress: {
        const v = this.octets();
        if (v.length !== 4) throw new DecodeError(`IpAddress of ${v.length} octets`);
        return { type, value: v };
      }
      case VT.ObjectIdentifier:
        return { type, value: this.oid().oid };
      case VT.Null:
      case VT.NoSuchObject:
      case VT.NoSuchInstance:
      case VT.EndOfMibView:
        return { type };
      default:
        throw new DecodeError(`unknown value type ${type}`);
    }
  }
  varbind(): VarBind {
    const type = this.u16();
    this.u16();
    const { oid } = this.oid();
    return { oid, value: this.value(type) };
  }
  varbinds(): VarBind[] {
    const out: VarBind[] = [];
    while (this.remaining() > 0) out.push(this.varbind());
    return out;
  }
  ranges(): SearchRange[] {
    const out: SearchRange[] = [];
    while (this.remaining() > 0) {
      const s = this.oid();
      const e = this.oid();
      out.push({ start: s.oid, include: s.include, end: e.oid });
    }
    return out;
  }
}

/** Read the fixed header of a (complete or partial) frame; `undefined` if < 20 octets. */
export function readHeader(buf: Buffer): Header | undefined {
  if (buf.length < HEADER_LEN) return undefined;
  const flags = buf.readUInt8(2);
  const be = (flags & Flag.NetworkByteOrder) !== 0;
  const get = (off: number) => (be ? buf.readUInt32BE(off) : buf.readUInt32LE(off));
  return {
    version: buf.readUInt8(0),
    type: buf.readUInt8(1),
    flags,
    sessionId: get(4),
    transactionId: get(8),
    packetId: get(12),
    payloadLength: get(16),
  };
}

/** Decode one complete frame (header + payload). Never throws. */
export function decodePdu(frame: Buffer): DecodeResult {
  const h = readHeader(frame);
  if (!h) return { ok: false, error: `short PDU (${frame.length} octets)` };
  try {
    if (h.version !== AGENTX_VERSION) throw new DecodeError(`h.version ${h.version} (expected 1)`);
    if (HEADER_LEN + h.payloadLength !== frame.length) throw new DecodeError(`payload_length ${h.payloadLength} but frame has ${frame.length - HEADER_LEN}`);
    const be = (h.flags & Flag.NetworkByteOrder) !== 0;
    const r = new Reader(frame, be, HEADER_LEN, frame.length);
    const base: Base = { sessionId: h.sessionId, transactionId: h.transactionId, packetId: h.packetId, flags: h.flags };
    const contextual = h.type !== PduType.Open && h.type !== PduType.Close && h.type !== PduType.Response && h.type !== PduType.CommitSet && h.type !== PduType.UndoSet && h.type !== PduType.CleanupSet;
    if (contextual && h.flags & Flag.NonDefaultContext) base.context = r.octets();
    let pdu: Pdu;
    switch (h.type) {
      case PduType.Open: {
        const timeout = r.u8();
        r.u8();
        r.u8();
        r.u8();
        pdu = { ...base, type: h.type, timeout, id: r.oid().oid, descr: r.octets() };
        break;
      }
      case PduType.Close: {
        const reason = r.u8();
        r.u8();
        r.u8();
        r.u8();
        pdu = { ...base, type: h.type, reason };
        break;
      }
      case PduType.Register:
      case PduType.Unregister: {
        const timeout = r.u8();
        const priority = r.u8();
        const rangeSubid = r.u8();
        r.u8();
        const subtree = r.oid().oid;
        const upperBound = rangeSubid ? r.u32() : undefined;
        if (rangeSubid > subtree.length) throw new DecodeError(`range_subid ${rangeSubid} beyond subtree length ${subtree.length}`);
        pdu = h.type === PduType.Register
          ? { ...base, type: h.type, timeout, priority, rangeSubid, subtree, upperBound }
          : { ...base, type: h.type, priority, rangeSubid, subtree, upperBound };
        break;
      }
      case PduType.Get:
      case PduType.GetNext:
        pdu = { ...base, type: h.type, ranges: r.ranges() };
        break;
      case PduType.GetBulk: {
        const nonRepeaters = r.u16();
        const maxRepetitions = r.u16();
        pdu = { ...base, type: h.type, nonRepeaters, maxRepetitions, ranges: r.ranges() };
        break;
      }
      case PduType.TestSet:
      case PduType.Notify:
      case PduType.IndexAllocate:
      case PduType.IndexDeallocate:
        pdu = { ...base, type: h.type, varbinds: r.varbinds() };
        break;
      case PduType.CommitSet:
      case PduType.UndoSet:
      case PduType.CleanupSet:
      case PduType.Ping:
        pdu = { ...base, type: h.type };
        break;
      case PduType.AddAgentCaps:
        pdu = { ...base, type: h.type, id: r.oid().oid, descr: r.octets() };
        break;
      case PduType.RemoveAgentCaps:
        pdu = { ...base, type: h.type, id: r.oid().oid };
        break;
      case PduType.Response: {
        const sysUpTime = r.u32();
        const error = r.u16();
        const index = r.u16();
        pdu = { ...base, type: h.type, sysUpTime, error, index, varbinds: r.varbinds() };
        break;
      }
      default:
        throw new DecodeError(`unknown PDU type ${h.type}`);
    }
    if (r.remaining() !== 0) throw new DecodeError(`${r.remaining()} trailing octets`);
    return { ok: true, pdu };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), header: h };
  }
}

// ---------------------------------------------------------------------------------------
// Stream framing

export type FrameEvent = { frame: Buffer } | { fatal: string };

/**
 * Re-frames an AgentX byte stream (RFC 2741 §6.1: every PDU is 20 octets of header plus
 * h.payload_length octets, in the byte order its own flags say). A read may carry several
 * PDUs or part of one; this buffers and yields complete frames in order.
 *
 * A header whose payload_length is not a multiple of 4 (RFC 2741 §6.1) or exceeds the cap
 * means we have lost the frame boundary; nothing after it can be trusted, so the framer
 * reports `fatal` and the session must close the connection (RFC 2741 §7.1.1 parse error).
 */
export class AgentxFramer {
  private buf: Buffer = Buffer.alloc(0);
  private dead = false;
  constructor(readonly maxPdu = 1 << 20) {}

  push(chunk: Buffer): FrameEvent[] {
    if (this.dead) return [];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: FrameEvent[] = [];
    for (;;) {
      const h = readHeader(this.buf);
      if (!h) break;
      if (h.payloadLength % 4 !== 0 || h.payloadLength > this.maxPdu) {
        this.dead = true;
        this.buf = Buffer.alloc(0);
        out.push({ fatal: `unframeable PDU header (payload_length ${h.payloadLength})` });
        break;
      }
      const total = HEADER_LEN + h.payloadLength;
      if (this.buf.length < total) break;
      out.push({ frame: this.buf.subarray(0, total) });
      this.buf = this.buf.subarray(total);
    }
    return out;
  }

  /** octets buffered waiting for the rest of a PDU */
  pending(): number {
    return this.buf.length;
  }
}
