/**
 * The AgentSnapshot as it crosses from the VRRP thread to the HTTP worker: per instance,
 * only the fields that changed since the previous snapshot sent to the same worker.
 *
 * Why: a structured clone of 255 instances (~60 fields each) costs ~1 ms to serialize on
 * the VRRP thread and ~1.3 ms to deserialize in the worker (bench/metrics-scrape.mjs), and
 * most fields (configuration, names, flags) do not change between two scrapes. Comparing
 * them costs a fraction of that, and the message shrinks to the counters and clocks that
 * moved.
 *
 * Both sides keep the previous snapshot's instances by position; the worker rebuilds the
 * instances from its copy plus the changes. A message that does not fit the worker's copy
 * (a bug, or a lost message) is detected by instance name and the next request asks for a
 * full snapshot.
 */
import type { AgentSnapshot, InstanceSnapshot } from '../state/snapshot';

type Fields = Record<string, unknown>;

export type WireInstance =
  /** a whole instance (first snapshot, new or moved instance) */
  | { full: InstanceSnapshot }
  /** the fields that differ from the previous snapshot's instance at the same position (and the removed ones) */
  | { name: string; ch: Fields; del?: string[] };

export type WireSnapshot = Omit<AgentSnapshot, 'instances'> & { wi: WireInstance[] };

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

/** compiled per field set: `(cur, prev, ch) => number of changed fields`, writing them into ch */
type Differ = (c: Fields, o: Fields, ch: Fields, same: typeof sameData) => number;
/** compiled per field set: a fast-mode copy of an instance (every field named in one literal) */
type Copier = (p: Fields) => InstanceSnapshot;

const q = (k: string): string => JSON.stringify(k); // field names are data: quoted, never code

/** The sending side (VRRP thread): remembers what it sent last. */
export class SnapshotEncoder {
  private prev: InstanceSnapshot[] = [];
  /** field-set signature of each instance sent last */
  private prevSig: string[] = [];
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
  }

  private names = new Set<string>();
  /** the last snapshot sent had this instance */
  has(name: string): boolean {
    return this.names.has(name);
  }

  encode(s: AgentSnapshot): WireSnapshot {
    const { instances, ...rest } = s;
    const wi: WireInstance[] = new Array(instances.length);
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
        wi[n] = { full: cur };
        continue;
      }
      const o = p as unknown as Fields;
      let d = this.differs.get(okeys);
      if (!d) {
        if (this.differs.size > 64) this.differs.clear();
        const body = keys
          .map((k) => `if (c[${q(k)}] !== o[${q(k)}] && (typeof c[${q(k)}] !== 'object' || !same(c[${q(k)}], o[${q(k)}]) || !(${q(k)} in o))) { ch[${q(k)}] = c[${q(k)}]; n++; }`)
          .join('\n');
        d = new Function('c', 'o', 'ch', 'same', `let n = 0;\n${body}\nreturn n;`) as Differ;
        this.differs.set(okeys, d);
      }
      const ch: Fields = {};
      d(c, o, ch, sameData);
      let del: string[] | undefined;
      if (this.prevSig[n] !== okeys) for (const k in o) if (!(k in c)) (del ??= []).push(k);
      wi[n] = del ? { name: cur.iname, ch, del } : { name: cur.iname, ch };
    }
    this.prev = instances;
    this.prevSig = sigs;
    this.names = new Set(instances.map((i) => i.iname));
    return { ...rest, wi };
  }
}

/** The receiving side (HTTP worker): rebuilds whole snapshots. */
export class SnapshotDecoder {
  private prev: InstanceSnapshot[] = [];
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
    const { wi, ...rest } = w;
    const instances: InstanceSnapshot[] = new Array(wi.length);
    for (let n = 0; n < wi.length; n++) {
      const x = wi[n];
      if ('full' in x) {
        instances[n] = x.full;
        continue;
      }
      const p = this.prev[n];
      if (!p || p.iname !== x.name) throw new Error(`snapshot delta for ${x.name} does not match instance ${n} (${p?.iname ?? 'none'})`);
      instances[n] = this.build(p as unknown as Fields, x.ch, x.del);
    }
    this.prev = instances;
    return { ...(rest as Omit<AgentSnapshot, 'instances'>), instances };
  }

  reset(): void {
    this.prev = [];
  }

  private build(p: Fields, ch: Fields, del: string[] | undefined): InstanceSnapshot {
    const keys = Object.keys(p);
    let added = false;
    for (const k in ch) if (!(k in p)) added = true;
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
    for (const k in ch) o[k] = ch[k];
    return o as unknown as InstanceSnapshot;
  }
}
