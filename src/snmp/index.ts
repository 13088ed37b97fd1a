/**
 * SNMP for keepwatch, as keepalived does it: an AgentX subagent of the host's snmpd that
 * serves KEEPALIVED-MIB, RFC 2787 VRRP-MIB and RFC 6527 VRRPV3-MIB from the AgentSnapshot
 * and turns journal events into SNMPv2 notifications (keepalived core/snmp.c,
 * vrrp/vrrp_snmp.c, check/check_snmp.c).
 *
 * global_defs → options: enable_snmp_vrrp → enable.vrrp, enable_snmp_checker →
 * enable.checker, enable_snmp_rfcv2 / enable_snmp_rfcv3 (or enable_snmp_rfc) → enable.rfcv2
 * / enable.rfcv3, enable_traps → traps, snmp_socket → socket (keepalived -x sets the four
 * enable flags but not traps). Like keepalived, nothing connects unless one MIB is enabled.
 */
import type { Journal } from '../journal/journal';
import type { SnapshotProvider } from '../state/snapshot';
import { AgentxSession, DEFAULT_AGENTX_SOCKET, formatAgentxAddress, parseAgentxSocket, type AgentxTiming } from './agentx';
import { keepalivedModules, KEEPALIVED_OID, type SnmpWritable } from './keepalived-mib';
import type { MibModule } from './mib';
import { notificationsFor, type SnmpEnable } from './traps';
import { vrrpMibModule, vrrpv3MibModule } from './vrrp-rfc-mibs';

export { DEFAULT_AGENTX_SOCKET, parseAgentxSocket } from './agentx';
export type { SnmpWritable } from './keepalived-mib';
export type { SnmpEnable } from './traps';
export { newMasterReason } from './convert';

export interface SnmpOptions {
  /** keepalived snmp_socket syntax; default "unix:/var/agentx/master" */
  socket?: string;
  journal: Journal;
  snapshot: SnapshotProvider;
  enable: SnmpEnable;
  /** enable_traps */
  traps: boolean;
  /** writable objects — none unless given (keepalived allows base priority, preempt, RS weight) */
  writable?: SnmpWritable;
  /** AgentX timers (tests shorten them) */
  timing?: AgentxTiming;
}

export interface SnmpStatus {
  connected: boolean;
  reconnects: number;
  /** AgentX master address in use ("unix:/var/agentx/master") */
  socket?: string;
  lastError?: string;
  /** subtrees the master refused to register (e.g. already owned by another subagent) */
  refused: string[];
}

export interface SnmpHandle {
  /** agentx-Close (reasonShutdown) and stop reconnecting; resolves when the stream is closed */
  stop(): Promise<void>;
  status(): SnmpStatus;
}

/** The MIB subtrees to register for these enable flags, in keepalived's order. */
export function snmpModules(enable: SnmpEnable, traps: boolean, writable?: SnmpWritable): MibModule[] {
  const mods = keepalivedModules({ vrrp: !!enable.vrrp, checker: !!enable.checker, traps, writable });
  if (enable.rfcv2) mods.push(vrrpMibModule(traps));
  if (enable.rfcv3) mods.push(vrrpv3MibModule());
  return mods;
}

export function startSnmp(opts: SnmpOptions): SnmpHandle {
  const { journal } = opts;
  const parsed = parseAgentxSocket(opts.socket);
  const modules = snmpModules(opts.enable, opts.traps, opts.writable);
  if (!parsed.ok || modules.length === 0) {
    const error = parsed.ok ? undefined : parsed.error;
    if (error) journal.emit({ type: 'snmp.agentx', connected: false, reconnects: 0, error, socket: opts.socket ?? DEFAULT_AGENTX_SOCKET });
    return {
      stop: () => Promise.resolve(),
      status: () => ({ connected: false, reconnects: 0, lastError: error, refused: [] }),
    };
  }
  const socket = formatAgentxAddress(parsed.address);
  const session = new AgentxSession({
    ...opts.timing,
    address: parsed.address,
    description: 'keepwatch: keepalived-compatible VRRP/LVS agent (KEEPALIVED-MIB, VRRP-MIB, VRRPV3-MIB)',
    id: KEEPALIVED_OID,
    modules,
    snapshot: opts.snapshot,
    wallClock: () => journal.clock.wall(),
    onState: (s) => journal.emit({ type: 'snmp.agentx', connected: s.connected, reconnects: s.reconnects, error: s.error, socket, recoveryMs: s.recoveryMs }),
  });

  // Push side: journal events → notifications. The listener is synchronous and cheap (the
  // snapshot read and a few varbinds); delivery is asynchronous and reported as its own event.
  const unsubscribe = opts.traps
    ? journal.subscribe((e) => {
        if (e.type === 'snmp.notification' || e.type === 'snmp.agentx') return;
        if (e.type !== 'vrrp.transition' && e.type !== 'vrrp.sync_group' && e.type !== 'vrrp.error' && e.type !== 'vrrp.global_error' && e.type !== 'realserver.state' && e.type !== 'virtualserver.quorum') return;
        let notes;
        try {
          notes = notificationsFor(e, opts.snapshot(), opts.enable, opts.traps);
        } catch (err) {
          journal.emit({ type: 'snmp.notification', notification: e.type, ok: false, error: `building notification: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        for (const n of notes) {
          void session.notify(n.trapOid, n.varbinds).then((r) => journal.emit({ type: 'snmp.notification', notification: n.name, ok: r.ok, error: r.ok ? undefined : r.error }));
        }
      })
    : () => {};

  session.start();
  return {
    stop: async () => {
      unsubscribe();
      await session.stop();
    },
    status: () => {
      const s = session.status();
      return { connected: s.connected, reconnects: s.reconnects, socket, lastError: s.lastError, refused: s.refused };
    },
  };
}
