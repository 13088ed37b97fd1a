/**
 * Journal events → SNMPv2 notifications, as keepalived 2.2.7 sends them
 * (vrrp/vrrp_snmp.c vrrp_snmp_instance_trap, vrrp_snmp_group_trap,
 * vrrp_rfcv2_snmp_new_master_trap, vrrp_rfcv2_snmp_auth_err_trap,
 * vrrp_rfcv3_snmp_new_master_notify, vrrp_rfcv3_snmp_proto_err_notify;
 * check/check_snmp.c check_snmp_rs_trap, check_snmp_quorum_trap).
 *
 * Pure: (event, snapshot, settings) → notifications. The AgentX session prepends
 * snmpTrapOID.0 (RFC 2741 §6.2.10); sysUpTime.0 is left to the master agent, which then
 * stamps its own sysUpTime as it does for every notification it originates.
 *
 * keepalived gates every notification on enable_traps AND the MIB's enable_snmp_* flag.
 */
import type { JournalEvent } from '../journal/events';
import type { AgentSnapshot, InstanceSnapshot, VirtualServerSnapshot } from '../state/snapshot';
import type { VarBind } from './agentx-pdu';
import { authErrorType, inetType, kaTrapState, newMasterReason, octetsOf, parseServerId, primaryAddress, protoErrReason, suitableRfc2787, suitableRfc6527, vsProtocol } from './convert';
import { KA_CHECK, KA_GLOBAL, KA_VRRP } from './keepalived-mib';
import { gauge, int, ipaddr, octets, str, truth } from './mib';
import { concatOid, type Oid } from './oid';
import { VRRP_MIB, VRRPV3_MIB, inetTypeOf } from './vrrp-rfc-mibs';

export interface SnmpEnable {
  /** enable_snmp_vrrp (KEEPALIVED-MIB global + vrrp) */
  vrrp?: boolean;
  /** enable_snmp_checker (KEEPALIVED-MIB global + check) */
  checker?: boolean;
  /** enable_snmp_rfcv2 (RFC 2787 VRRP-MIB) */
  rfcv2?: boolean;
  /** enable_snmp_rfcv3 (RFC 6527 VRRPV3-MIB) */
  rfcv3?: boolean;
}

export interface Notification {
  /** MIB name of the notification, e.g. "vrrpInstanceStateChange" */
  name: string;
  trapOid: Oid;
  /** the varbinds after snmpTrapOID.0 */
  varbinds: VarBind[];
}

export const TRAP = {
  vrrpSyncGroupStateChange: concatOid(KA_VRRP, [10, 0, 1]),
  vrrpInstanceStateChange: concatOid(KA_VRRP, [10, 0, 2]),
  realServerStateChange: concatOid(KA_CHECK, [5, 0, 1]),
  virtualServerQuorumStateChange: concatOid(KA_CHECK, [5, 0, 2]),
  vrrpTrapNewMaster: concatOid(VRRP_MIB, [0, 1]),
  vrrpTrapAuthFailure: concatOid(VRRP_MIB, [0, 2]),
  vrrpv3NewMaster: concatOid(VRRPV3_MIB, [0, 1]),
  vrrpv3ProtoError: concatOid(VRRPV3_MIB, [0, 2]),
} as const;

const routerId = (snap: AgentSnapshot): VarBind => ({ oid: concatOid(KA_GLOBAL, [2, 0]), value: str(snap.routerId) });

function findInstance(snap: AgentSnapshot, name: string): InstanceSnapshot | undefined {
  return snap.instances.find((i) => i.iname === name);
}

/**
 * The KEEPALIVED-MIB state-change traps name their objects by the column OID without a row
 * index (keepalived builds name_oid = {VRRP_OID, 3, 1, 2}); we send the same OIDs so
 * existing trap handlers keep matching.
 */
function instanceStateChange(e: Extract<JournalEvent, { type: 'vrrp.transition' }>, snap: AgentSnapshot): Notification {
  const inst = findInstance(snap, e.instance);
  const initial = inst?.initial_state ?? inst?.wantstate ?? e.to;
  return {
    name: 'vrrpInstanceStateChange',
    trapOid: TRAP.vrrpInstanceStateChange,
    varbinds: [
      { oid: concatOid(KA_VRRP, [3, 1, 2]), value: str(e.instance) },
      { oid: concatOid(KA_VRRP, [3, 1, 4]), value: int(kaTrapState(e.to)) },
      { oid: concatOid(KA_VRRP, [3, 1, 5]), value: int(kaTrapState(initial)) },
      routerId(snap),
    ],
  };
}

/**
 * The new master's (our) address: src_ip when the snapshot has it; else the transition's
 * masterAddress, which for a transition to MASTER is our own primary address (vrrp/fsm.ts);
 * the snapshot may still show the previous state while the event is being journalled.
 */
function ownAddress(inst: InstanceSnapshot, e: { masterAddress?: string }): string | undefined {
  return inst.src_ip || e.masterAddress || primaryAddress(inst);
}

/** RFC 2787 vrrpTrapNewMaster: vrrpOperMasterIpAddr.<ifIndex>.<VrId> = our address. */
function newMasterV2(inst: InstanceSnapshot, e: { masterAddress?: string }): Notification | undefined {
  const addr = octetsOf(ownAddress(inst, e));
  if (!addr || addr.length !== 4) return undefined;
  return {
    name: 'vrrpTrapNewMaster',
    trapOid: TRAP.vrrpTrapNewMaster,
    varbinds: [{ oid: concatOid(VRRP_MIB, [1, 3, 1, 7, inst.ifindex, inst.vrid]), value: ipaddr(addr) }],
  };
}

/** RFC 6527 vrrpv3NewMaster: MasterIpAddr and NewMasterReason of the row. */
function newMasterV3(inst: InstanceSnapshot, reason: number, e: { masterAddress?: string }): Notification | undefined {
  const addr = octetsOf(ownAddress(inst, e)) ?? new Array<number>(inst.family === 'ipv6' ? 16 : 4).fill(0);
  const idx = [inst.ifindex, inst.vrid, inetTypeOf(inst)];
  return {
    name: 'vrrpv3NewMaster',
    trapOid: TRAP.vrrpv3NewMaster,
    varbinds: [
      { oid: concatOid(VRRPV3_MIB, [1, 1, 1, 1, 3], idx), value: octets(addr) },
      { oid: concatOid(VRRPV3_MIB, [1, 2, 5, 1, 2], idx), value: int(reason) },
    ],
  };
}

function protoError(inst: InstanceSnapshot, reason: number): Notification {
  return {
    name: 'vrrpv3ProtoError',
    trapOid: TRAP.vrrpv3ProtoError,
    varbinds: [{ oid: concatOid(VRRPV3_MIB, [1, 2, 5, 1, 6], [inst.ifindex, inst.vrid, inetTypeOf(inst)]), value: int(reason) }],
  };
}

/**
 * The virtual-server identity varbinds keepalived appends (check_snmp_rs_trap): type, then
 * group name, fwmark, or address type/address/port; then protocol as TruthValue(tcp).
 */
function vsIdentity(vs: VirtualServerSnapshot): VarBind[] {
  const id = parseServerId(vs.name);
  const c = (sub: number) => concatOid(KA_CHECK, [3, 1, sub]);
  const out: VarBind[] = [];
  if (id?.kind === 'group') {
    out.push({ oid: c(2), value: int(3) }, { oid: c(3), value: str(id.group) });
  } else if (id?.kind === 'fwmark') {
    out.push({ oid: c(2), value: int(1) }, { oid: c(4), value: gauge(id.fwmark) });
  } else {
    out.push({ oid: c(2), value: int(2) });
    if (id?.kind === 'ip') {
      out.push({ oid: c(5), value: int(inetType(id.address)) });
      const o = octetsOf(id.address);
      if (o) out.push({ oid: c(6), value: octets(o) });
      out.push({ oid: c(7), value: gauge(id.port) });
    }
  }
  // keepalived sends virtualServerProtocol as TruthValue(service_type == TCP) here, not the
  // column's tcp(1)/udp(2)/sctp(3) — identical for TCP and UDP, so we send the column value.
  out.push({ oid: c(8), value: int(vsProtocol(vs.protocol)) });
  return out;
}

function vsCounts(vs: VirtualServerSnapshot): VarBind[] {
  const c = (sub: number) => concatOid(KA_CHECK, [3, 1, sub]);
  return [
    { oid: c(21), value: gauge(vs.realServers.filter((r) => r.up).length) },
    { oid: c(20), value: gauge(vs.realServers.length) },
  ];
}

export function notificationsFor(e: JournalEvent, snap: AgentSnapshot, enable: SnmpEnable, traps: boolean): Notification[] {
  if (!traps) return [];
  const out: Notification[] = [];
  switch (e.type) {
    case 'vrrp.transition': {
      if (enable.vrrp) out.push(instanceStateChange(e, snap));
      if (e.to !== 'MASTER') break;
      const inst = findInstance(snap, e.instance);
      if (!inst) break;
      if (enable.rfcv2 && suitableRfc2787(inst)) {
        const n = newMasterV2(inst, e);
        if (n) out.push(n);
      }
      if (enable.rfcv3 && suitableRfc6527(inst)) {
        const n = newMasterV3(inst, newMasterReason(e.reason), e);
        if (n) out.push(n);
      }
      break;
    }
    case 'vrrp.sync_group':
      if (enable.vrrp) {
        out.push({
          name: 'vrrpSyncGroupStateChange',
          trapOid: TRAP.vrrpSyncGroupStateChange,
          varbinds: [
            { oid: concatOid(KA_VRRP, [1, 1, 2]), value: str(e.group) },
            { oid: concatOid(KA_VRRP, [1, 1, 3]), value: int(kaTrapState(e.to)) },
            routerId(snap),
          ],
        });
      }
      break;
    case 'vrrp.error': {
      const inst = findInstance(snap, e.instance);
      if (!inst) break;
      const auth = authErrorType(e.counter);
      if (auth !== undefined && enable.rfcv2 && suitableRfc2787(inst)) {
        // keepalived names these accessible-for-notify scalars with .<ifIndex>.<VrId>
        const src = octetsOf(e.src);
        const idx = [inst.ifindex, inst.vrid];
        out.push({
          name: 'vrrpTrapAuthFailure',
          trapOid: TRAP.vrrpTrapAuthFailure,
          varbinds: [
            { oid: concatOid(VRRP_MIB, [1, 5], idx), value: ipaddr(src?.length === 4 ? src : [0, 0, 0, 0]) },
            { oid: concatOid(VRRP_MIB, [1, 6], idx), value: int(auth) },
          ],
        });
      }
      const proto = protoErrReason(e.counter);
      if (proto !== undefined && enable.rfcv3 && suitableRfc6527(inst)) out.push(protoError(inst, proto));
      break;
    }
    case 'vrrp.global_error': {
      // Not attributable to one VRID: report it on every RFC 6527 row of that interface.
      const proto = protoErrReason(e.counter);
      if (proto === undefined || !enable.rfcv3) break;
      for (const inst of snap.instances) {
        if (suitableRfc6527(inst) && (inst.ifp_ifname === e.intf || inst.vmac_ifname === e.intf)) out.push(protoError(inst, proto));
      }
      break;
    }
    case 'realserver.state': {
      if (!enable.checker) break;
      const vs = snap.virtualServers.find((v) => v.name === e.virtualServer);
      const rsId = parseServerId(e.realServer);
      const vb: VarBind[] = [];
      const rc = (sub: number) => concatOid(KA_CHECK, [4, 1, sub]);
      if (rsId?.kind === 'ip') {
        vb.push({ oid: rc(3), value: int(inetType(rsId.address)) });
        const o = octetsOf(rsId.address);
        if (o) vb.push({ oid: rc(4), value: octets(o) });
        vb.push({ oid: rc(5), value: gauge(rsId.port) });
      }
      vb.push({ oid: rc(6), value: truth(e.up) });
      if (vs) vb.push(...vsIdentity(vs), ...vsCounts(vs));
      vb.push(routerId(snap));
      out.push({ name: 'realServerStateChange', trapOid: TRAP.realServerStateChange, varbinds: vb });
      break;
    }
    case 'virtualserver.quorum': {
      if (!enable.checker) break;
      const vs = snap.virtualServers.find((v) => v.name === e.virtualServer);
      const c = (sub: number) => concatOid(KA_CHECK, [3, 1, sub]);
      const vb: VarBind[] = [];
      if (vs) vb.push(...vsIdentity(vs));
      // quorumStatus met(1) notMet(2) shutdown(3) — shutdown when the daemon is stopping
      vb.push({ oid: c(23), value: int(!snap.running ? 3 : e.met ? 1 : 2) });
      vb.push({ oid: c(22), value: gauge(vs?.quorum ?? 0) });
      vb.push({ oid: c(21), value: gauge(e.up) }, { oid: c(20), value: gauge(e.configured) });
      vb.push(routerId(snap));
      out.push({ name: 'virtualServerQuorumStateChange', trapOid: TRAP.virtualServerQuorumStateChange, varbinds: vb });
      break;
    }
    default:
      break;
  }
  return out;
}
