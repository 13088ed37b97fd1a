/**
 * Notify scripts and FIFO lines as a journal observer (shared/design.md: notify is one
 * more channel reading the same journal). The engine journals `vrrp.notify` /
 * `vrrp.group_notify` exactly where keepalived notifies (the FSM's notify action), so
 * scripts run on keepalived's occasions, not on every internal transition.
 *
 * keepalived 2.2.7 (vrrp/vrrp_notify.c, shared/research/keepalived-features.md §7):
 * for an instance transition, in order: the per-state script (notify_master /
 * notify_backup / notify_fault / notify_stop) with only its configured arguments,
 * then the generic `notify` with 4 extra arguments `INSTANCE <name> <STATE> <prio>`,
 * then the FIFO line `INSTANCE "<name>" <STATE> <prio>`. Sync groups: `GROUP` and
 * priority 0. keepalived does not wait for scripts; we keep its order per instance by
 * starting the next script of the same instance after the previous one finished (at
 * most `orderWaitMs` later), so a consumer sees MASTER before BACKUP.
 */
import type { Journal } from '../journal/journal';
import type { JournalEvent, VrrpState } from '../journal/events';
import { runCommand, type UserIds } from './command';
import { NotifyFifo } from './fifo';

export interface NotifyScript {
  command: string;
  user?: UserIds;
}

export interface NotifyTargets {
  master?: NotifyScript;
  backup?: NotifyScript;
  fault?: NotifyScript;
  stop?: NotifyScript;
  deleted?: NotifyScript;
  masterRxLowerPri?: NotifyScript;
  generic?: NotifyScript;
}

export interface NotifierConfig {
  instances: Map<string, NotifyTargets>;
  groups: Map<string, NotifyTargets>;
  /** FIFOs receiving VRRP lines (notify_fifo and vrrp_notify_fifo) */
  vrrpFifos: NotifyFifo[];
  /** FIFOs receiving LVS lines (notify_fifo and lvs_notify_fifo) */
  lvsFifos: NotifyFifo[];
  /** STOP notifies are killed after 1 s (keepalived) */
  stopTimeoutMs?: number;
  orderWaitMs?: number;
}

type NotifyState = VrrpState | 'DELETED' | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

const STATES: Partial<Record<NotifyState, keyof NotifyTargets>> = {
  MASTER: 'master',
  BACKUP: 'backup',
  FAULT: 'fault',
  STOP: 'stop',
  DELETED: 'deleted',
  MASTER_RX_LOWER_PRI: 'masterRxLowerPri',
};
/** keepalived runs the generic `notify` script for real states only (vrrp_notify.c) */
const GENERIC: ReadonlySet<NotifyState> = new Set(['MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED']);

export class Notifier {
  private chains = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly journal: Journal,
    private cfg: NotifierConfig,
  ) {}

  start(): void {
    this.unsubscribe = this.journal.subscribe((e) => this.onEvent(e));
  }

  /** Reload: new targets; FIFOs that are no longer configured are closed by the caller. */
  update(cfg: NotifierConfig): void {
    this.cfg = cfg;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Resolves when every queued script has finished (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private onEvent(e: JournalEvent): void {
    if (e.type === 'vrrp.notify') {
      this.notify('INSTANCE', e.instance, e.state, e.priority, this.cfg.instances.get(e.instance));
    } else if (e.type === 'vrrp.group_notify') {
      this.notify('GROUP', e.group, e.state, 0, this.cfg.groups.get(e.group));
    } else if (e.type === 'realserver.state') {
      // keepalived's text ([ip]:proto:port) when the checker engine supplies it
      this.lvsLine(`RS ${e.kaRealServer ?? e.realServer} ${e.kaVirtualServer ?? e.virtualServer} ${e.up ? 'UP' : 'DOWN'}`);
    } else if (e.type === 'virtualserver.quorum') {
      this.lvsLine(`VS ${e.kaVirtualServer ?? e.virtualServer} ${e.met ? 'UP' : 'DOWN'}`);
    }
  }

  private lvsLine(line: string): void {
    for (const f of this.cfg.lvsFifos) {
      const err = f.write(line);
      this.journal.emit({ type: 'notify.fifo', path: f.path, line, ok: err === null, ...(err ? { error: err } : {}) });
    }
  }

  private notify(kind: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, prio: number, t: NotifyTargets | undefined): void {
    const key = `${kind}:${name}`;
    const scripts: { event: string; s: NotifyScript; extra: string[] }[] = [];
    const per = STATES[state];
    if (t && per && t[per]) scripts.push({ event: `notify_${per}`, s: t[per]!, extra: [] });
    if (t?.generic && GENERIC.has(state)) scripts.push({ event: 'notify', s: t.generic, extra: [kind, name, state, String(prio)] });
    const timeoutMs = state === 'STOP' ? (this.cfg.stopTimeoutMs ?? 1000) : 0;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const waitCap = this.cfg.orderWaitMs ?? 5000;
    const run = async () => {
      for (const { event, s, extra } of scripts) {
        const r = await runCommand(s.command, { extraArgs: extra, user: s.user, timeoutMs });
        this.journal.emit({
          type: 'notify.run',
          event,
          target: name,
          command: s.command,
          exitCode: r.exitCode,
          durationMs: r.durationMs,
          ...(r.error ? { error: r.error } : r.timedOut ? { error: 'timed out' } : {}),
        });
      }
    };
    const capped = Promise.race([prev, new Promise<void>((r) => setTimeout(r, waitCap).unref())]);
    const next = capped.then(run, run).catch(() => {});
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    // FIFO lines are written at once and in journal order (keepalived writes them
    // right after forking the scripts).
    const line = `${kind} "${name}" ${state} ${prio}`;
    for (const f of this.cfg.vrrpFifos) {
      const err = f.write(line);
      this.journal.emit({ type: 'notify.fifo', path: f.path, line, ok: err === null, ...(err ? { error: err } : {}) });
    }
  }
}
