/**
 * Reconcile the kernel's IPVS table with the desired one.
 *
 * `diff` is pure: (desired, kernel dump, memory of what we manage) -> operations. It only
 * ever touches what is ours:
 *  - a desired service is created, or adopted when it already exists (keepalived takes
 *    over matching entries at start: EEXIST is not an error), and edited when its
 *    scheduler / flags / persistence differ;
 *  - inside a service, destinations the configuration speaks for (`managed`) are added,
 *    edited or removed; any other destination belongs to someone else and stays;
 *  - a service we managed before (memory) that is no longer desired is deleted — that is
 *    how a reload removes a virtual server; services we never managed are left alone
 *    (keepalived only FLUSHes everything with lvs_flush);
 *  - nothing that already matches generates an operation, so a reload changes only what
 *    changed and untouched entries keep their counters and connections.
 * Order: creates and edits first, removals last, so a pool moving from its real servers
 * to the sorry server is never empty in between.
 *
 * `Reconciler` performs one round against a live IpvsClient: dump, diff, apply, journal.
 * keepalived's libipvs tolerances are kept (ipvs_talk): EEXIST on add and ENOENT/ESRCH on
 * delete count as done; an edit of a missing destination falls back to adding it.
 */
import type { Journal } from '../journal/journal';
import { IpvsError, type IpvsClient } from './ipvs';
import { destKeyString, serviceKeyOf, serviceKeyString } from './keys';
import { SVC_FLAGS } from './types';
import type { DesiredService, IpvsDest, IpvsService, KernelService, ServiceKey } from './types';

export type IpvsOp =
  | { kind: 'add-service'; owner: string; service: IpvsService }
  | { kind: 'edit-service'; owner: string; service: IpvsService; from: IpvsService }
  | { kind: 'del-service'; owner: string; service: ServiceKey }
  | { kind: 'add-dest'; owner: string; service: ServiceKey; dest: IpvsDest }
  | { kind: 'edit-dest'; owner: string; service: ServiceKey; dest: IpvsDest; from: IpvsDest }
  | { kind: 'del-dest'; owner: string; service: ServiceKey; dest: IpvsDest };

/** What we manage: service key -> { owner, managed destination keys }. */
export type ReconcileMemory = Map<string, { owner: string; service: ServiceKey; dests: Set<string> }>;

export function emptyMemory(): ReconcileMemory {
  return new Map();
}

const SERVICE_FIELDS = ['scheduler', 'flags', 'timeout', 'netmask', 'peName'] as const;

export function serviceDiffers(want: IpvsService, have: IpvsService): boolean {
  const norm = (s: IpvsService) => ({ ...s, flags: s.flags & ~SVC_FLAGS.HASHED });
  const a = norm(want);
  const b = norm(have);
  return SERVICE_FIELDS.some((f) => a[f] !== b[f]);
}

export function destDiffers(want: IpvsDest, have: IpvsDest): boolean {
  if (want.forwarding !== have.forwarding || want.weight !== have.weight) return true;
  if (want.upperThreshold !== have.upperThreshold || want.lowerThreshold !== have.lowerThreshold) return true;
  if (want.forwarding === 'TUN' && have.tunnelType !== undefined) {
    // kernels before 5.3 do not report tunnel parameters; compare only when they do
    if ((want.tunnelType ?? 'ipip') !== have.tunnelType) return true;
    if ((want.tunnelPort ?? 0) !== (have.tunnelPort ?? 0) && want.tunnelType === 'gue') return true;
    if ((want.tunnelFlags ?? 0) !== (have.tunnelFlags ?? 0) && want.tunnelType !== 'ipip') return true;
  }
  return false;
}

function pickService(s: IpvsService): IpvsService {
  const { family, fwmark, protocol, address, port, scheduler, flags, timeout, netmask, peName } = s;
  return { family, fwmark, protocol, address, port, scheduler, flags, timeout, netmask, peName };
}

function pickDest(d: IpvsDest): IpvsDest {
  const out: IpvsDest = { family: d.family, address: d.address, port: d.port, forwarding: d.forwarding, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold };
  if (d.tunnelType !== undefined) out.tunnelType = d.tunnelType;
  if (d.tunnelPort !== undefined) out.tunnelPort = d.tunnelPort;
  if (d.tunnelFlags !== undefined) out.tunnelFlags = d.tunnelFlags;
  return out;
}

/**
 * Pure diff. `kernel` must carry the destinations of every service that is desired or in
 * `memory` (others may have empty `dests`). Returns the operations and the memory to keep
 * once they are applied.
 */
export function diff(desired: DesiredService[], kernel: KernelService[], memory: ReconcileMemory): { ops: IpvsOp[]; memory: ReconcileMemory } {
  const have = new Map(kernel.map((s) => [serviceKeyString(s), s]));
  const want = new Map<string, DesiredService>();
  for (const s of desired) want.set(serviceKeyString(s), s); // duplicate endpoints: last wins
  const adds: IpvsOp[] = [];
  const edits: IpvsOp[] = [];
  const dels: IpvsOp[] = [];
  const next: ReconcileMemory = new Map();

  for (const [key, w] of want) {
    const owner = w.owner;
    const svcKey = serviceKeyOf(w);
    const managed = new Set(w.managed.map(destKeyString));
    const before = memory.get(key);
    if (before) for (const d of before.dests) managed.add(d); // removed from config since: still ours to clean
    const current = have.get(key);
    const wantDests = new Map(w.dests.map((d) => [destKeyString(d), d]));
    if (!current) {
      adds.push({ kind: 'add-service', owner, service: pickService(w) });
      for (const d of wantDests.values()) adds.push({ kind: 'add-dest', owner, service: svcKey, dest: pickDest(d) });
    } else {
      if (serviceDiffers(w, current)) edits.push({ kind: 'edit-service', owner, service: pickService(w), from: pickService(current) });
      const haveDests = new Map(current.dests.map((d) => [destKeyString(d), d]));
      for (const [dk, d] of wantDests) {
        const h = haveDests.get(dk);
        if (!h) adds.push({ kind: 'add-dest', owner, service: svcKey, dest: pickDest(d) });
        else if (destDiffers(d, h)) edits.push({ kind: 'edit-dest', owner, service: svcKey, dest: pickDest(d), from: pickDest(h) });
      }
      for (const [dk, h] of haveDests) {
        if (!wantDests.has(dk) && managed.has(dk)) dels.push({ kind: 'del-dest', owner, service: svcKey, dest: pickDest(h) });
      }
    }
    next.set(key, { owner, service: svcKey, dests: new Set(w.managed.map(destKeyString)) });
  }

  for (const [key, m] of memory) {
    if (want.has(key)) continue;
    if (have.has(key)) dels.push({ kind: 'del-service', owner: m.owner, service: m.service });
  }
  return { ops: [...adds, ...edits, ...dels], memory: next };
}

export function opTarget(op: IpvsOp): string {
  const svc = serviceKeyString(op.service);
  return 'dest' in op ? `${destKeyString(op.dest)} in ${svc}` : svc;
}

export interface ApplyResult {
  op: IpvsOp;
  ok: boolean;
  /** what was actually sent after a keepalived-style fallback (e.g. edit -> add) */
  done: IpvsOp['kind'] | 'nothing';
  error?: string;
  durationMs: number;
}

async function applyOne(c: IpvsClient, op: IpvsOp): Promise<Pick<ApplyResult, 'ok' | 'done' | 'error'>> {
  const errno = (e: unknown) => (e instanceof IpvsError ? e.errno : e instanceof Error ? e.message : String(e));
  try {
    switch (op.kind) {
      case 'add-service':
        try {
          await c.addService(op.service);
          return { ok: true, done: 'add-service' };
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e;
          await c.editService(op.service);
          return { ok: true, done: 'edit-service' };
        }
      case 'edit-service':
        await c.editService(op.service);
        return { ok: true, done: 'edit-service' };
      case 'del-service':
        try {
          await c.delService(op.service);
          return { ok: true, done: 'del-service' };
        } catch (e) {
          if (errno(e) === 'ESRCH' || errno(e) === 'ENOENT') return { ok: true, done: 'nothing' };
          throw e;
        }
      case 'add-dest':
        try {
          await c.addDest(op.service, op.dest);
          return { ok: true, done: 'add-dest' };
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e;
          await c.editDest(op.service, op.dest);
          return { ok: true, done: 'edit-dest' };
        }
      case 'edit-dest':
        try {
          await c.editDest(op.service, op.dest);
          return { ok: true, done: 'edit-dest' };
        } catch (e) {
          if (errno(e) !== 'ENOENT') throw e;
          await c.addDest(op.service, op.dest);
          return { ok: true, done: 'add-dest' };
        }
      case 'del-dest':
        try {
          await c.delDest(op.service, op.dest);
          return { ok: true, done: 'del-dest' };
        } catch (e) {
          if (errno(e) === 'ENOENT' || errno(e) === 'ESRCH') return { ok: true, done: 'nothing' };
          throw e;
        }
    }
  } catch (e) {
    return { ok: false, done: 'nothing', error: errno(e) };
  }
}

/** Apply operations in order; every outcome is journaled as `ipvs.apply`. Never rejects. */
export async function apply(c: IpvsClient, ops: IpvsOp[], journal?: Journal, now: () => number = () => performance.now()): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const op of ops) {
    const t0 = now();
    const r = await applyOne(c, op);
    const res: ApplyResult = { op, ...r, durationMs: now() - t0 };
    out.push(res);
    journal?.emit({
      type: 'ipvs.apply',
      op: op.kind,
      target: opTarget(op),
      ok: r.ok,
      ...(r.error ? { error: r.error } : {}),
      durationMs: res.durationMs,
      virtualServer: op.owner,
      ...('dest' in op && op.kind !== 'del-dest' ? { weight: op.dest.weight } : {}),
    });
  }
  return out;
}

export interface SyncResult {
  ops: IpvsOp[];
  results: ApplyResult[];
  /** a dump failed: nothing was applied */
  error?: string;
}

/**
 * Stateful wrapper: remembers what it manages between rounds. One round at a time (a
 * caller asking while a round runs gets the next round, which sees the latest desired
 * table): health flaps coalesce instead of queueing one round each.
 */
export class Reconciler {
  memory: ReconcileMemory = emptyMemory();
  private running: Promise<SyncResult> | null = null;
  private pending: { desired: DesiredService[]; waiters: Array<(r: SyncResult) => void> } | null = null;

  constructor(
    private readonly client: IpvsClient,
    private readonly journal?: Journal,
  ) {}

  sync(desired: DesiredService[]): Promise<SyncResult> {
    if (!this.running) {
      this.running = this.round(desired);
      return this.running;
    }
    if (!this.pending) this.pending = { desired, waiters: [] };
    this.pending.desired = desired;
    return new Promise((resolve) => this.pending!.waiters.push(resolve));
  }

  private async round(desired: DesiredService[]): Promise<SyncResult> {
    let result: SyncResult;
    try {
      result = await this.once(desired);
    } finally {
      const p = this.pending;
      this.pending = null;
      this.running = null;
      if (p) {
        const r = this.sync(p.desired);
        void r.then((x) => p.waiters.forEach((w) => w(x)));
      }
    }
    return result;
  }

  private async once(desired: DesiredService[]): Promise<SyncResult> {
    let kernel: KernelService[];
    try {
      const wanted = new Set([...desired.map((s) => serviceKeyString(s)), ...this.memory.keys()]);
      kernel = await this.client.table((s) => wanted.has(serviceKeyString(s)));
    } catch (e) {
      return { ops: [], results: [], error: e instanceof Error ? e.message : String(e) };
    }
    const { ops, memory } = diff(desired, kernel, this.memory);
    const results = await apply(this.client, ops, this.journal);
    // Keep remembering services whose removal failed, so the next round retries it.
    for (const r of results) {
      if (!r.ok && r.op.kind === 'del-service') {
        const k = serviceKeyString(r.op.service);
        const old = this.memory.get(k);
        if (old) memory.set(k, old);
      }
    }
    this.memory = memory;
    return { ops, results };
  }

  /** Delete every service we manage (keepalived clear_services at stop, without -I). */
  async removeAll(): Promise<ApplyResult[]> {
    while (this.running) await this.running.catch(() => undefined);
    const ops: IpvsOp[] = [...this.memory.values()].map((m) => ({ kind: 'del-service', owner: m.owner, service: m.service }));
    const res = await apply(this.client, ops, this.journal);
    this.memory = emptyMemory();
    return res;
  }
}
