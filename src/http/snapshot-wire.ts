/**
 * The AgentSnapshot as it crosses from the VRRP thread to the HTTP worker: per instance,
 * only what changed since the previous snapshot sent to the same worker.
 *
 * Why: a structured clone of 255 instances (~60 fields each) costs ~1 ms to serialize on
 * the VRRP thread and ~1.3 ms to deserialize in the worker (bench/metrics-scrape.mjs), and
 * most fields (configuration, names, flags) do not change between two scrapes. What does
 * change between two scrapes is almost only numbers — keepalived's counters, time in state,
 * timers, last-advert timestamps — and a structured clone of a few hundred small objects
 * holding them still cost ~0.9 ms on the two threads together. So:
 *  - a number that stays a number travels in three typed arrays (instance position, field
 *    path, value): one copy of a few KB, whatever the instance count; a field path is a
 *    top-level field ("master_down_remaining") or a field of a nested plain object
 *    ("stats.advert_rcvd", "time_in_state.MASTER");
 *  - everything else that changed (strings, arrays, flags, a number becoming null, a field
 *    appearing or going away) goes as a per-instance object of changed fields;
 *  - an instance with neither is not mentioned at all.
 *
 * Both sides keep the previous snapshot's instances by position; the worker rebuilds the
 * instances from its copy plus the changes. Messages are numbered: one that does not follow
 * the worker's copy (a bug, or a lost message) is refused, and the next request asks for a
 * full snapshot.
 */
import type { AgentSnapshot, InstanceSnapshot } from '../state/snapshot';

type Fields = Record<string, unknown>;

/** an instance sent whole (first snapshot, new or moved instance) or its non-numeric changes */
export type WireInstance = { at: number; full: InstanceSnapshot } | { at: number; name: string; ch: Fields; del?: string[] };

export type WireSnapshot = Omit<AgentSnapshot, 'instances'> & {
  /** message number since the last reset; 1: every instance is whole */
  seq: number;
  /** number of instances */
  count: number;
  wi: WireInstance[];
  /** numeric changes: instance position, index into `paths`, new value */
  numAt: Uint32Array;
  numPath: Uint16Array;
  numVal: Float64Array;
  /** field paths (["stats", "advert_rcvd"], ["master_down_remaining", null]) new since the previous message: ids continue the decoder's table */
  paths: [string, string | null][];
};

/** deep equality of plain data (what snapshots are made of) */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !sameData((a as Fields)[k], (b as Fields)[k])) return false;
  return true;
}

const isRecord = (x: unknown): x is Fields => typeof x === 'object' && x !== null && !Array.isArray(x);

/** both numbers and the same value (NaN included) */
const sameNumber = (a: number, b: number): boolean => a === b || (a !== a && b !== b);

/**
 * Numeric changes of one message. Field paths get ids that stay valid until the encoder is
 * reset; a message carries only the paths that are new since the previous one.
 */
class NumericChanges {
  at: number[] = [];
  path: number[] = [];
  val: number[] = [];
  constructor(readonly table: PathTable) {}
  add(n: number, id: number, v: number): void {
    this.at.push(n);
    this.path.push(id);
    this.val.push(v);
  }
}

/** field path → id, for top-level fields and one level of nested fields */
class PathTable {
  readonly paths: [string, string | null][] = [];
  /** paths[sent..] are not known to the decoder yet */
  sent = 0;
  private top = new Map<string, number>();
  private nested = new Map<string, Map<string, number>>();
  topId(k: string): number {
    let id = this.top.get(k);
    if (id === undefined) this.top.set(k, (id = this.newId([k, null])));
    return id;
  }
  nestedId(k: string, x: string): number {
    let m = this.nested.get(k);
    if (!m) this.nested.set(k, (m = new Map()));
    let id = m.get(x);
    if (id === undefined) m.set(x, (id = this.newId([k, x])));
    return id;
  }
  private newId(path: [string, string | null]): number {
    this.paths.push(path);
    return this.paths.length - 1;
  }
}

/**
 * The changes of nested object `a` against `b` as numeric changes under `prefix`, or
 * false when something other than a number changed (the object then goes whole).
 */
function nestedNumbers(a: Fields, b: Fields, n: number, k: string, out: NumericChanges): boolean {
  // two passes, no allocation: first make sure only numbers changed (and the key sets match)
  let na = 0;
  let numeric = 0;
  for (const x in a) {
    na++;
    const va = a[x];
    const vb = b[x];
    if (va === vb && (va !== undefined || x in b)) continue;
    if (typeof va === 'number' && typeof vb === 'number') {
      numeric++;
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(b, x) || !sameData(va, vb)) return false;
  }
  let nb = 0;
  for (const _ in b) nb++;
  if (na !== nb) return false;
  if (numeric)
    for (const x in a) {
      const va = a[x];
      const vb = b[x];
      if (va !== vb && typeof va === 'number' && !sameNumber(va, vb as number)) out.add(n, out.table.nestedId(k, x), va);
    }
  return true;
}

/** compiled per field set: the changed fields of `c` against `o`, numbers into `num` */
type Differ = (c: Fields, o: Fields, n: number, ch: Fields, num: NumericChanges, h: DiffHelpers) => number;
interface DiffHelpers {
  same: typeof sameData;
  nested: typeof nestedNumbers;
  isRecord: typeof isRecord;
  sameNumber: typeof sameNumber;
}
const HELPERS: DiffHelpers = { same: sameData, nested: nestedNumbers, isRecord, sameNumber };

/** compiled per field set: a fast-mode copy of an instance (every field named in one literal) */
type Copier = (p: Fields) => InstanceSnapshot;

const q = (k: string): string => JSON.stringify(k); // field names are data: quoted, never code

/** The sending side (VRRP thread): remembers what it sent last. */
export class SnapshotEncoder {
  private prev: InstanceSnapshot[] = [];
  /** field-set signature of each instance sent last */
  private prevSig: string[] = [];
  private seq = 0;
  private paths = new PathTable();
  /**
   * Comparators compiled per field set (snapshots have one or two): direct property reads
   * instead of a generic walk — the generic version cost as much as the clone it saves.
   */
  private differs = new Map<string, Differ>();

  /** forget what was sent (a new worker, or the worker asked for a full snapshot) */
  reset(): void {
    this.prev = [];
    this.prevSig = [];
    this.names = new Set();
    this.seq = 0;
    // path ids are compiled into the comparators: both start over
    this.paths = new PathTable();
    this.differs.clear();
  }

  private names = new Set<string>();
  /** the last snapshot sent had this instance */
  has(name: string): boolean {
    return this.names.has(name);
  }

  encode(s: AgentSnapshot): WireSnapshot {
    const { instances, ...rest } = s;
    const wi: WireInstance[] = [];
    const num = new NumericChanges(this.paths);
    const sigs: string[] = new Array(instances.length);
    let lastSig = '';
    let lastKeys: string[] = [];
    for (let n = 0; n < instances.length; n++) {
      const cur = instances[n];
      const c = cur as unknown as Fields;
      const keys = Object.keys(c);
      const okeys = keys.length === lastKeys.length && keys.every((k, i) => k === lastKeys[i]) ? lastSig : keys.join('\u0000');
      lastKeys = keys;
      lastSig = sigs[n] = okeys;
      const p = this.prev[n];
      if (!p || p.iname !== cur.iname) {
        wi.push({ at: n, full: cur });
        continue;
      }
      const o = p as unknown as Fields;
      let d = this.differs.get(okeys);
      if (!d) {
        if (this.differs.size > 64) this.differs.clear();
        // per field: a number that stays a number → numeric change; a plain object whose
        // changes are all numbers → numeric changes "field.sub"; anything else → ch
        const body = keys
          .map((k) => {
            const K = q(k);
            return `{ const a = c[${K}], b = o[${K}];
  if (a !== b) {
    if (typeof a === 'number' && typeof b === 'number') { if (!h.sameNumber(a, b)) { num.add(n, ${this.paths.topId(k)}, a); m++; } }
    else if (h.isRecord(a) && h.isRecord(b)) { if (!h.nested(a, b, n, ${K}, num)) { ch[${K}] = a; m++; } }
    else if (typeof a !== 'object' || !h.same(a, b) || !(${K} in o)) { ch[${K}] = a; m++; }
  }
}`;
          })
          .join('\n');
        d = new Function('c', 'o', 'n', 'ch', 'num', 'h', `let m = 0;\n${body}\nreturn m;`) as Differ;
        this.differs.set(okeys, d);
      }
      const ch: Fields = {};
      d(c, o, n, ch, num, HELPERS);
      let del: string[] | undefined;
      if (this.prevSig[n] !== okeys) for (const k in o) if (!(k in c)) (del ??= []).push(k);
      let any = del !== undefined;
      if (!any) for (const _ in ch) {
        any = true;
        break;
      }
      if (any) wi.push(del ? { at: n, name: cur.iname, ch, del } : { at: n, name: cur.iname, ch });
    }
    this.prev = instances;
    this.prevSig = sigs;
    this.names = new Set(instances.map((i) => i.iname));
    const newPaths = this.paths.paths.slice(this.paths.sent);
    this.paths.sent = this.paths.paths.length;
    return {
      ...rest,
      seq: ++this.seq,
      count: instances.length,
      wi,
      numAt: Uint32Array.from(num.at),
      numPath: Uint16Array.from(num.path),
      numVal: Float64Array.from(num.val),
      paths: newPaths,
    };
  }
}

/** The receiving side (HTTP worker): rebuilds whole snapshots. */
export class SnapshotDecoder {
  private prev: InstanceSnapshot[] = [];
  private seq = 0;
  /** path id → [field, nested field or null] */
  private paths: [string, string | null][] = [];
  /**
   * An instance is rebuilt as a copy of the previous one made by a function that names
   * every field (an object literal stays a fast V8 object, where `{ ...prev, ...changes }`
   * with ~60 fields becomes a dictionary ~10× the size), then the changed fields are
   * assigned (same fields, same shape).
   */
  private copiers = new Map<string, Copier>();
  private lastKeys: string[] = [];
  private lastSig = '';

  decode(w: WireSnapshot): AgentSnapshot {
    const { wi, seq, count, numAt, numPath, numVal, paths, ...rest } = w;
    if (seq !== 1 && seq !== this.seq + 1) throw new Error(`snapshot delta ${seq} does not follow ${this.seq}`);
    if (seq === 1) this.paths = [];
    for (const p of paths) this.paths.push(p);
    const instances: InstanceSnapshot[] = new Array(count);
    /** instances rebuilt from the previous copy (their nested objects are still shared with it) */
    const copied = new Uint8Array(count);
    let next = 0;
    for (let n = 0; n < count; n++) {
      const x = next < wi.length && wi[next].at === n ? wi[next++] : undefined;
      if (x && 'full' in x) {
        instances[n] = x.full;
        continue;
      }
      const p = this.prev[n];
      if (!p || (x && p.iname !== x.name)) throw new Error(`snapshot delta for ${x?.name ?? `instance ${n}`} does not match instance ${n} (${p?.iname ?? 'none'})`);
      // an instance with numeric changes only is copied too: the previous snapshot may
      // still be in use by a render that yielded, and is never modified
      instances[n] = x ? this.build(p as unknown as Fields, x.ch, x.del) : this.build(p as unknown as Fields, undefined, undefined);
      copied[n] = 1;
    }
    for (let j = 0; j < numAt.length; j++) {
      const n = numAt[j];
      const inst = instances[n] as unknown as Fields | undefined;
      const path = this.paths[numPath[j]];
      if (!inst || path === undefined) throw new Error(`snapshot delta: numeric change for a missing instance ${n} or path ${numPath[j]}`);
      const [k, x] = path;
      if (x === null) {
        inst[k] = numVal[j];
        continue;
      }
      const found = inst[k];
      if (!isRecord(found)) throw new Error(`snapshot delta: ${k}.${x} of ${String(inst.iname)} is not an object field`);
      let o: Fields = found;
      // nested objects are shared with the previous copy until first written
      if (copied[n] && o === (this.prev[n] as unknown as Fields)[k]) inst[k] = o = { ...o };
      o[x] = numVal[j];
    }
    this.prev = instances;
    this.seq = seq;
    return { ...(rest as Omit<AgentSnapshot, 'instances'>), instances };
  }

  reset(): void {
    this.prev = [];
    this.seq = 0;
    this.paths = [];
  }

  private build(p: Fields, ch: Fields | undefined, del: string[] | undefined): InstanceSnapshot {
    const keys = Object.keys(p);
    let added = false;
    if (ch) for (const k in ch) if (!(k in p)) added = true;
    if (del || added) {
      // the field set changed (rare): plain object, no compiled copier
      const o: Fields = {};
      for (const k of keys) if (!del || !del.includes(k)) o[k] = p[k];
      for (const k in ch) o[k] = ch[k];
      return o as unknown as InstanceSnapshot;
    }
    const sig = keys.length === this.lastKeys.length && keys.every((k, i) => k === this.lastKeys[i]) ? this.lastSig : keys.join('\u0000');
    this.lastKeys = keys;
    this.lastSig = sig;
    let f = this.copiers.get(sig);
    if (!f) {
      if (this.copiers.size > 64) this.copiers.clear();
      f = new Function('p', `return { ${keys.map((k) => `${q(k)}: p[${q(k)}]`).join(', ')} };`) as Copier;
      this.copiers.set(sig, f);
    }
    const o = f(p) as unknown as Fields;
    if (ch) for (const k in ch) o[k] = ch[k];
    return o as unknown as InstanceSnapshot;
  }
}
