/**
 * The MIB view: scalars and tables computed from one AgentSnapshot per AgentX request,
 * answering Get / GetNext / GetBulk with the exact semantics of RFC 2741 §7.2.3 and the
 * two-phase Set of RFC 2741 §7.2.4 (TestSet → CommitSet | UndoSet → CleanupSet).
 *
 * Nothing is stored: each request PDU takes one snapshot (so every varbind in a PDU is
 * consistent — design.md "pull-style observers read the snapshot"), rows are generated per
 * table on first use within that request, and ordering is by OID (RFC 2578 §7.7), which is
 * what makes walks correct however the snapshot orders its lists.
 */
import { AxError, VT, type SearchRange, type Value, type VarBind } from './agentx-pdu';
import { compareOid, concatOid, isPrefixOf, type Oid } from './oid';
import type { AgentSnapshot } from '../state/snapshot';

export interface MibContext {
  snap: AgentSnapshot;
  /** wall-clock ms when the request was received */
  now: number;
  /** wall-clock ms at which the master agent's sysUpTime was 0, if known (AgentX Response) */
  masterBootWall?: number;
  /** per-request memo of generated rows */
  memo: Map<unknown, unknown>;
}

export type SetOutcome = { ok: true } | { ok: false; error: string };

/** A write to one object instance, prepared in TestSet, applied in CommitSet. */
export interface PreparedSet {
  commit(): SetOutcome;
  undo(): SetOutcome;
}

/** TestSet: validate a new value → either an SNMP error status or a prepared write. */
export type SetTester<R> = (row: R | undefined, value: Value, ctx: MibContext) => { error: number } | PreparedSet;

export interface Scalar {
  kind: 'scalar';
  name: string;
  oid: Oid;
  get(ctx: MibContext): Value | undefined;
  set?: SetTester<undefined>;
}

export interface Column<R> {
  sub: number;
  name: string;
  get(row: R, ctx: MibContext): Value | undefined;
  set?: SetTester<R>;
}

export interface Row<R> {
  index: Oid;
  row: R;
}

export interface Table<R> {
  kind: 'table';
  name: string;
  /** the ...Entry OID; columns are entry.<sub>.<index> */
  entry: Oid;
  columns: Column<R>[];
  rows(ctx: MibContext): Row<R>[];
}

export type MibObject = Scalar | Table<any>;

/** A registered subtree (one AgentX Register PDU, one sysORTable entry). */
export interface MibModule {
  name: string;
  root: Oid;
  /** sysORDescr, as keepalived registers it ("The MIB module for …") */
  descr: string;
  objects: MibObject[];
}

// ---- value constructors -----------------------------------------------------------------
export const int = (n: number): Value => ({ type: VT.Integer, value: n | 0 });
export const gauge = (n: number): Value => ({ type: VT.Gauge32, value: clampU32(n) });
export const counter = (n: number): Value => ({ type: VT.Counter32, value: clampU32(n) });
export const counter64 = (n: number | bigint): Value => ({ type: VT.Counter64, value: BigInt.asUintN(64, typeof n === 'bigint' ? n : BigInt(Math.max(0, Math.trunc(n)))) });
export const ticks = (n: number): Value => ({ type: VT.TimeTicks, value: clampU32(n) });
export const str = (s: string): Value => ({ type: VT.OctetString, value: Buffer.from(s, 'utf8') });
export const octets = (b: number[] | Buffer): Value => ({ type: VT.OctetString, value: Buffer.from(b) });
export const ipaddr = (b: number[]): Value => ({ type: VT.IpAddress, value: Buffer.from(b) });
/** SNMPv2-TC TruthValue: true(1), false(2) */
export const truth = (b: boolean): Value => int(b ? 1 : 2);

function clampU32(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  // Counter32 wraps (RFC 2578 §7.1.6); Gauge32 latches at max (§7.1.7). Both fit here:
  // callers pass counters modulo 2^32 via `counter`, gauges are never that large.
  return n >= 0x100000000 ? n % 0x100000000 : Math.trunc(n);
}

export const scalar = (name: string, o: Oid, get: Scalar['get'], set?: Scalar['set']): Scalar => ({ kind: 'scalar', name, oid: o, get, set });

export function table<R>(name: string, entry: Oid, columns: Column<R>[], rows: (ctx: MibContext) => Row<R>[]): Table<R> {
  const sorted = [...columns].sort((a, b) => a.sub - b.sub);
  return {
    kind: 'table',
    name,
    entry,
    columns: sorted,
    rows(ctx) {
      const memo = ctx.memo.get(this) as Row<R>[] | undefined;
      if (memo) return memo;
      const r = rows(ctx).slice().sort((a, b) => compareOid(a.index, b.index));
      ctx.memo.set(this, r);
      return r;
    },
  };
}

// ---- the view ---------------------------------------------------------------------------

const noSuchObject: Value = { type: VT.NoSuchObject };
const noSuchInstance: Value = { type: VT.NoSuchInstance };
const endOfMibView: Value = { type: VT.EndOfMibView };

/** First row whose index is > idx (or >= when inclusive); rows are sorted by index. */
function firstRowFrom<R>(rows: Row<R>[], idx: Oid, inclusive: boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareOid(rows[mid].index, idx);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MibView {
  private objects: MibObject[];

  constructor(readonly modules: MibModule[]) {
    this.objects = modules.flatMap((m) => m.objects).sort((a, b) => compareOid(a.kind === 'scalar' ? a.oid : a.entry, b.kind === 'scalar' ? b.oid : b.entry));
  }

  /** RFC 2741 §7.2.3.1 agentx-Get: exact instance, else noSuchInstance / noSuchObject. */
  get(name: Oid, ctx: MibContext): Value {
    for (const o of this.objects) {
      if (o.kind === 'scalar') {
        if (!isPrefixOf(o.oid, name)) continue;
        if (name.length === o.oid.length + 1 && name[name.length - 1] === 0) return o.get(ctx) ?? noSuchInstance;
        return noSuchInstance;
      }
      if (!isPrefixOf(o.entry, name) || name.length <= o.entry.length) continue;
      const col = o.columns.find((c) => c.sub === name[o.entry.length]);
      if (!col) return noSuchObject;
      const idx = name.slice(o.entry.length + 1);
      const rows = o.rows(ctx);
      const i = firstRowFrom(rows, idx, true);
      if (i < rows.length && compareOid(rows[i].index, idx) === 0) return col.get(rows[i].row, ctx) ?? noSuchInstance;
      return noSuchInstance;
    }
    return noSuchObject;
  }

  /**
   * RFC 2741 §7.2.3.2 agentx-GetNext: the first instance lexicographically after
   * range.start (or equal to it when include is set) and strictly before range.end (when
   * end is not the null OID); otherwise endOfMibView named by range.start.
   */
  getNext(range: SearchRange, ctx: MibContext): VarBind {
    const start = range.start;
    const withinEnd = (o: Oid) => range.end.length === 0 || compareOid(o, range.end) < 0;
    for (const obj of this.objects) {
      const base = obj.kind === 'scalar' ? obj.oid : obj.entry;
      // Every instance of this object extends `base`; skip it when all of them sort before start.
      if (compareOid(base, start) < 0 && !isPrefixOf(base, start)) continue;
      if (!withinEnd(base) && !isPrefixOf(base, range.end)) break;
      if (obj.kind === 'scalar') {
        const inst = concatOid(obj.oid, [0]);
        const c = compareOid(inst, start);
        if (c < 0 || (c === 0 && !range.include)) continue;
        if (!withinEnd(inst)) break;
        const v = obj.get(ctx);
        if (v) return { oid: inst, value: v };
        continue;
      }
      const rows = obj.rows(ctx);
      if (rows.length === 0) continue;
      for (const col of obj.columns) {
        const colOid = concatOid(obj.entry, [col.sub]);
        let i = 0;
        if (isPrefixOf(colOid, start)) i = firstRowFrom(rows, start.slice(colOid.length), range.include);
        else if (compareOid(colOid, start) < 0) continue;
        for (; i < rows.length; i++) {
          const inst = concatOid(colOid, rows[i].index);
          if (!withinEnd(inst)) return { oid: start, value: endOfMibView };
          const v = col.get(rows[i].row, ctx);
          if (v) return { oid: inst, value: v };
        }
      }
    }
    return { oid: start, value: endOfMibView };
  }

  /**
   * RFC 2741 §7.2.3.3 agentx-GetBulk: the first nonRepeaters ranges as GetNext, then up to
   * maxRepetitions rounds over the others, each continuing after the previous round's
   * result (include cleared, same end). Stops early once every repeater reached the end
   * of the view, and caps the response at `maxVarbinds` (the master re-asks for the rest).
   */
  getBulk(nonRepeaters: number, maxRepetitions: number, ranges: SearchRange[], ctx: MibContext, maxVarbinds = 1024): VarBind[] {
    const out: VarBind[] = [];
    const n = Math.min(nonRepeaters, ranges.length);
    for (let i = 0; i < n; i++) out.push(this.getNext(ranges[i], ctx));
    const reps = ranges.slice(n).map((r) => ({ ...r }));
    if (reps.length === 0) return out;
    const done = reps.map(() => false);
    for (let k = 0; k < maxRepetitions && out.length + reps.length <= maxVarbinds; k++) {
      for (let j = 0; j < reps.length; j++) {
        if (done[j]) {
          out.push({ oid: reps[j].start, value: endOfMibView });
          continue;
        }
        const vb = this.getNext(reps[j], ctx);
        out.push(vb);
        if (vb.value.type === VT.EndOfMibView) done[j] = true;
        else reps[j] = { start: vb.oid, include: false, end: reps[j].end };
      }
      if (done.every(Boolean)) break;
    }
    return out;
  }

  /**
   * RFC 2741 §7.2.4.1 agentx-TestSet, with the error precedence of RFC 3416 §4.2.5:
   * notWritable for objects that cannot be written, wrongType/wrongValue from the
   * column's tester, noCreation for rows that do not exist.
   */
  testSet(varbinds: VarBind[], ctx: MibContext): { error: number; index: number; prepared: PreparedSet[] } {
    const prepared: PreparedSet[] = [];
    for (let i = 0; i < varbinds.length; i++) {
      const { oid: name, value } = varbinds[i];
      const r = this.prepare(name, value, ctx);
      if ('error' in r) return { error: r.error, index: i + 1, prepared };
      prepared.push(r);
    }
    return { error: AxError.NoError, index: 0, prepared };
  }

  private prepare(name: Oid, value: Value, ctx: MibContext): { error: number } | PreparedSet {
    for (const o of this.objects) {
      if (o.kind === 'scalar') {
        if (!isPrefixOf(o.oid, name)) continue;
        if (!o.set) return { error: AxError.NotWritable };
        if (name.length !== o.oid.length + 1 || name[name.length - 1] !== 0) return { error: AxError.NoCreation };
        return o.set(undefined, value, ctx);
      }
      if (!isPrefixOf(o.entry, name) || name.length <= o.entry.length) continue;
      const col = o.columns.find((c) => c.sub === name[o.entry.length]);
      if (!col?.set) return { error: AxError.NotWritable };
      const idx = name.slice(o.entry.length + 1);
      const rows = o.rows(ctx);
      const i = firstRowFrom(rows, idx, true);
      const row = i < rows.length && compareOid(rows[i].index, idx) === 0 ? rows[i].row : undefined;
      const t = col.set(row, value, ctx);
      if ('error' in t) return t;
      if (row === undefined) return { error: AxError.NoCreation };
      return t;
    }
    return { error: AxError.NotWritable };
  }
}
