/**
 * KEEPALIVED-MIB (mibs/KEEPALIVED-MIB.txt, enterprises.9586.100.5) served from the
 * AgentSnapshot: the global scalars (.1), the vrrp tree (.2) and the check tree (.3).
 *
 * Values, presence rules (a column keepalived leaves out when unset is left out here too)
 * and encodings follow keepalived 2.2.7 core/snmp.c, vrrp/vrrp_snmp.c and
 * check/check_snmp.c, checked against the reference walks in
 * shared/reference/keepalived-2.2.7/snmpwalk-*-KEEPALIVED-MIB.txt. Where keepalived
 * deviates from its own MIB we say so at the spot.
 */
import { AxError, VT, type Value } from './agentx-pdu';
import { counter, counter64, gauge, int, octets, scalar, str, table, truth, type Column, type MibContext, type MibModule, type MibObject, type PreparedSet, type Row, type SetTester } from './mib';
import { concatOid, oid } from './oid';
import {
  inetScope,
  inetType,
  kaState,
  lbAlgo,
  lbKind,
  notifyExec,
  octetsOf,
  parseServerId,
  vipIfindex,
  vsProtocol,
} from './convert';
import type {
  InstanceSnapshot,
  RealServerSnapshot,
  ScriptSnapshot,
  SyncGroupSnapshot,
  TrackedInterfaceSnapshot,
  TrackedWeightSnapshot,
  VipSnapshot,
  VirtualServerSnapshot,
} from '../state/snapshot';

export const KEEPALIVED_OID = oid('1.3.6.1.4.1.9586.100.5');
export const KA_GLOBAL = concatOid(KEEPALIVED_OID, [1]);
export const KA_VRRP = concatOid(KEEPALIVED_OID, [2]);
export const KA_CHECK = concatOid(KEEPALIVED_OID, [3]);

/** Writes the operator allowed (startSnmp `writable`); each returns an error value, never throws. */
export interface SnmpWritable {
  /** vrrpInstanceBasePriority (keepalived vrrp_snmp_instance_priority) */
  setBasePriority?: (instance: string, priority: number) => { ok: true } | { ok: false; error: string };
  /** vrrpInstancePreempt (keepalived vrrp_snmp_instance_preempt) */
  setPreempt?: (instance: string, preempt: boolean) => { ok: true } | { ok: false; error: string };
  /**
   * realServerWeight (keepalived check_snmp_realserver_weight). The row index (virtual
   * server position, real server position with the sorry server first) is resolved here to
   * the snapshot names: `virtualServer` = VirtualServerSnapshot.name ("192.0.2.10:80",
   * "fwmark:5", "group:NAME"), `realServer` = RealServerSnapshot.address
   * ("198.51.100.11:8080"), `protocol` = VirtualServerSnapshot.protocol (TCP and UDP
   * services may share a name).
   */
  setRealServerWeight?: (virtualServer: string, realServer: string, weight: number, protocol?: string) => { ok: true } | { ok: false; error: string };
}

export interface KeepalivedMibOptions {
  traps: boolean;
  vrrp: boolean;
  checker: boolean;
  writable?: SnmpWritable;
}

/** keepalived IPVS_WEIGHT_LIMIT (ip_vs.h: INT32_MAX; destination weights are s32 in the kernel) */
const IPVS_WEIGHT_LIMIT = 2147483647;

const V4_MCAST = [224, 0, 0, 18];
const V6_MCAST = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12];

function col<R>(sub: number, name: string, get: (r: R, ctx: MibContext) => Value | undefined, set?: SetTester<R>): Column<R> {
  return { sub, name, get, set };
}

const optStr = (s: string | undefined): Value | undefined => (s ? str(s) : undefined);
const seconds = (s: number | undefined, dflt = 0): number => Math.trunc(s ?? dflt);
const usec = (s: number | undefined, dflt = 0): number => Math.round((s ?? dflt) * 1e6);

/** A two-level table over a parent list (keepalived snmp_find_element: 1-based positions). */
function nested<P, C>(parents: P[], children: (p: P) => C[] | undefined): Row<C>[] {
  const out: Row<C>[] = [];
  parents.forEach((p, i) => (children(p) ?? []).forEach((c, j) => out.push({ index: [i + 1, j + 1], row: c })));
  return out;
}

/** Tables indexed by { parentIndex, ifIndex } — the MIB's INDEX clause (keepalived uses list positions; we follow the MIB). */
function byIfIndex<P>(parents: P[], children: (p: P) => TrackedInterfaceSnapshot[] | undefined): Row<TrackedInterfaceSnapshot>[] {
  const out: Row<TrackedInterfaceSnapshot>[] = [];
  parents.forEach((p, i) => {
    const seen = new Set<number>();
    for (const t of children(p) ?? []) {
      if (seen.has(t.ifindex)) continue; // an index must be unique within the table
      seen.add(t.ifindex);
      out.push({ index: [i + 1, t.ifindex], row: t });
    }
  });
  return out;
}

const trackedIfColumns: Column<TrackedInterfaceSnapshot>[] = [
  col(1, 'Name', (t) => str(t.name)),
  col(2, 'Weight', (t) => int(t.weight)),
  col(3, 'WgtRev', (t) => truth(t.weight_reverse)),
];
const trackedWeightColumns: Column<TrackedWeightSnapshot>[] = [
  col(2, 'Name', (t) => str(t.name)),
  col(3, 'Weight', (t) => int(t.weight)),
  col(4, 'WgtRev', (t) => truth(t.weight_reverse)),
];

/**
 * Tracked scripts of an instance: the explicit weights when the engine gives them, else the
 * script's own weight (keepalived's default for a `track_script` entry without `weight`).
 * track_script holds names or, like keepalived's JSON dump, command lines: match either.
 */
function instanceScripts(i: InstanceSnapshot, scripts: ScriptSnapshot[]): TrackedWeightSnapshot[] {
  if (i.track_script_weights) return i.track_script_weights;
  const out: TrackedWeightSnapshot[] = [];
  for (const ref of i.track_script) {
    const s = scripts.find((x) => x.name === ref) ?? scripts.find((x) => x.command === ref);
    if (s) out.push({ name: s.name, weight: s.weight, weight_reverse: s.weight_reverse ?? false });
  }
  return out;
}

/** keepalived vrrpScriptResult: init(1) bad(2) good(3) initfailed(5). */
function scriptResult(s: ScriptSnapshot): number {
  switch (s.status) {
    case 'init':
      return 1;
    case 'good':
      return 3;
    case 'init_failed':
      return 5;
    default:
      return 2;
  }
}

function integerValue(v: Value): number | undefined {
  return v.type === VT.Integer ? v.value : undefined;
}

// ---------------------------------------------------------------------------------------

function globalModule(opts: KeepalivedMibOptions): MibModule {
  const g = (ctx: MibContext) => ctx.snap.globals ?? {};
  const S = (sub: number[], name: string, get: (ctx: MibContext) => Value | undefined) => scalar(name, concatOid(KA_GLOBAL, sub), get);
  const onOffUnset = (v: boolean | undefined) => int(v === undefined ? 3 : v ? 1 : 2);
  const smtp = (ctx: MibContext) => {
    const s = g(ctx).smtpServer;
    return s ? octetsOf(s) : undefined;
  };
  const objects: MibObject[] = [
    S([1], 'version', (ctx) => str(ctx.snap.version)),
    // keepalived: NULL when router_id unset (it defaults to the hostname, so always set)
    S([2], 'routerId', (ctx) => optStr(ctx.snap.routerId)),
    // core/snmp.c: AF_INET → 1, anything else (including "no SMTP server") → 2; the address
    // then reads as the IPv4 sockaddr bytes (all zero when unset).
    S([3, 1], 'smtpServerAddressType', (ctx) => int(smtp(ctx)?.length === 4 ? 1 : 2)),
    S([3, 2], 'smtpServerAddress', (ctx) => octets(smtp(ctx) ?? [0, 0, 0, 0])),
    S([3, 3], 'smtpServerTimeout', (ctx) => gauge(seconds(g(ctx).smtpConnectTimeout))),
    S([3, 4], 'emailFrom', (ctx) => optStr(g(ctx).emailFrom)),
    S([3, 6], 'smtpServerPort', (ctx) => gauge(smtp(ctx) ? (g(ctx).smtpServerPort ?? 25) : 0)),
    S([3, 7], 'smtpEmailFaults', (ctx) => truth(g(ctx).emailFaults ?? true)),
    S([3, 8], 'smtpEmailSmtpAlert', (ctx) => onOffUnset(g(ctx).smtpAlert)),
    S([3, 9], 'smtpEmailSmtpAlertVrrp', (ctx) => onOffUnset(g(ctx).smtpAlertVrrp)),
    S([3, 10], 'smtpEmailSmtpAlertChecker', (ctx) => onOffUnset(g(ctx).smtpAlertChecker)),
    table<string>('emailTable', concatOid(KA_GLOBAL, [3, 5, 1]), [col(2, 'emailAddress', (e) => str(e))], (ctx) =>
      (g(ctx).email ?? []).map((e, i) => ({ index: [i + 1], row: e })),
    ),
    S([4], 'trapEnable', () => truth(opts.traps)),
    S([5], 'linkBeat', (ctx) => int(g(ctx).linkbeatUsePolling ? 2 : 1)),
    S([6], 'lvsFlush', (ctx) => truth(g(ctx).lvsFlush ?? false)),
    // keepwatch, like Debian's keepalived, reads 64-bit IPVS counters
    S([7], 'ipvs64BitStats', () => truth(true)),
    S([8], 'netNamespace', (ctx) => str(g(ctx).netNamespace ?? '')),
    S([9], 'dbus', (ctx) => truth(g(ctx).dbus ?? false)),
    S([10], 'dynamicInterfaces', (ctx) => truth(g(ctx).dynamicInterfaces ?? false)),
    S([11], 'lvsFlushOnStop', (ctx) => {
      const v = g(ctx).lvsFlushOnStop;
      return int(v === 'full' ? 1 : v === 'vs' ? 3 : 2);
    }),
  ];
  return { name: 'KEEPALIVED-MIB global', root: KA_GLOBAL, descr: 'The MIB module for Keepalived', objects };
}

// ---------------------------------------------------------------------------------------

function instancePrioritySetter(opts: KeepalivedMibOptions): SetTester<InstanceSnapshot> | undefined {
  const setter = opts.writable?.setBasePriority;
  if (!setter) return undefined;
  return (row, value) => {
    const v = integerValue(value);
    if (v === undefined) return { error: AxError.WrongType };
    // keepalived refuses 0 (RESERVE1); 255 is the address owner's (RFC 3768 §5.3.4) — allowed only via config.
    if (v < 1 || v > 254) return { error: AxError.WrongValue };
    if (!row) return { error: AxError.NoCreation };
    const old = row.base_priority;
    const p: PreparedSet = { commit: () => setter(row.iname, v), undo: () => setter(row.iname, old) };
    return p;
  };
}

function instancePreemptSetter(opts: KeepalivedMibOptions): SetTester<InstanceSnapshot> | undefined {
  const setter = opts.writable?.setPreempt;
  if (!setter) return undefined;
  return (row, value) => {
    const v = integerValue(value);
    if (v === undefined) return { error: AxError.WrongType };
    if (v !== 1 && v !== 2) return { error: AxError.WrongValue };
    if (!row) return { error: AxError.NoCreation };
    const old = !row.nopreempt;
    return { commit: () => setter(row.iname, v === 1), undo: () => setter(row.iname, old) };
  };
}

function vrrpModule(opts: KeepalivedMibOptions): MibModule {
  const e = (t: number) => concatOid(KA_VRRP, [t, 1]);
  const insts = (ctx: MibContext) => ctx.snap.instances;
  const groups = (ctx: MibContext) => ctx.snap.syncGroups;

  const instanceColumns: Column<InstanceSnapshot>[] = [
    col(2, 'vrrpInstanceName', (i) => str(i.iname)),
    col(3, 'vrrpInstanceVirtualRouterId', (i) => gauge(i.vrid)),
    col(4, 'vrrpInstanceState', (i) => int(kaState(i.state))),
    col(5, 'vrrpInstanceInitialState', (i) => int(kaState(i.initial_state ?? i.wantstate))),
    col(6, 'vrrpInstanceWantedState', (i) => int(kaState(i.wantstate))),
    col(7, 'vrrpInstanceBasePriority', (i) => int(i.base_priority), instancePrioritySetter(opts)),
    col(8, 'vrrpInstanceEffectivePriority', (i) => int(i.effective_priority)),
    col(9, 'vrrpInstanceVipsStatus', (i) => truth(i.vipset)),
    col(10, 'vrrpInstancePrimaryInterface', (i) => optStr(i.ifp_ifname)),
    // keepalived: TruthValue(!list_empty(&track_ifp)) — i.e. "has tracked interfaces"
    col(11, 'vrrpInstanceTrackPrimaryIf', (i) => truth((i.track_ifp?.length ?? i.track_interface.length) > 0)),
    // keepalived: seconds for v2, centiseconds for v3
    col(12, 'vrrpInstanceAdvertisementsInt', (i) => gauge(i.version === 2 ? Math.trunc(i.adver_int) : Math.round(i.adver_int * 100))),
    col(13, 'vrrpInstancePreempt', (i) => truth(!i.nopreempt), instancePreemptSetter(opts)),
    col(14, 'vrrpInstancePreemptDelay', (i) => gauge(Math.trunc(i.preempt_delay))),
    // keepalived: auth_type for v2, 0 for v3
    col(15, 'vrrpInstanceAuthType', (i) => int(i.version === 2 ? i.auth_type : 0)),
    col(16, 'vrrpInstanceLvsSyncDaemon', (i) => truth(i.lvs_sync_daemon ?? false)),
    col(17, 'vrrpInstanceLvsSyncInterface', (i, ctx) => (i.lvs_sync_daemon ? optStr(ctx.snap.globals?.lvsSyncDaemon?.interface) : undefined)),
    col(18, 'vrrpInstanceSyncGroup', (i) => optStr(i.sync_group)),
    col(19, 'vrrpInstanceGarpDelay', (i) => gauge(Math.trunc(i.garp_delay))),
    col(20, 'vrrpInstanceSmtpAlert', (i) => truth(i.smtp_alert)),
    col(21, 'vrrpInstanceNotifyExec', (i) => truth(notifyExec(i))),
    col(22, 'vrrpInstanceScriptMaster', (i) => optStr(i.script_master)),
    col(23, 'vrrpInstanceScriptBackup', (i) => optStr(i.script_backup)),
    col(24, 'vrrpInstanceScriptFault', (i) => optStr(i.script_fault)),
    col(25, 'vrrpInstanceScriptStop', (i) => optStr(i.script_stop)),
    col(26, 'vrrpInstanceScript', (i) => optStr(i.script)),
    // keepalived: TruthValue(accept) for v3, 0 for v2 (accept mode is a VRRPv3 concept, RFC 5798 §6.1)
    col(27, 'vrrpInstanceAccept', (i) => int(i.version === 3 ? (i.accept ? 1 : 2) : 0)),
    col(28, 'vrrpInstancePromoteSecondaries', (i) => truth(i.promote_secondaries)),
    col(29, 'vrrpInstanceUseLinkbeat', (i) => truth(i.linkbeat_use_polling ?? false)),
    col(30, 'vrrpInstanceVrrpVersion', (i) => int(i.version)),
    col(31, 'vrrpInstanceScriptMstrRxLowerPri', (i) => optStr(i.script_master_rx_lower_pri)),
    col(32, 'vrrpInstanceScriptDeleted', (i) => optStr(i.script_deleted)),
    col(33, 'vrrpInstanceNotifyDeleted', (i) => truth(i.notify_deleted)),
    // absent in unicast mode (keepalived)
    col(34, 'vrrpInstanceMulticastAddressType', (i) => (i.unicast ? undefined : int(i.family === 'ipv6' ? 2 : 1))),
    col(35, 'vrrpInstanceMulticastAddress', (i) => {
      if (i.unicast) return undefined;
      return octets(octetsOf(i.mcast_daddr) ?? (i.family === 'ipv6' ? V6_MCAST : V4_MCAST));
    }),
  ];

  type Addr = { vip: VipSnapshot; inst: InstanceSnapshot; advertised: boolean };
  const addressColumns: Column<Addr>[] = [
    col(2, 'vrrpAddressType', (a) => int(inetType(a.vip.address))),
    col(3, 'vrrpAddressValue', (a) => {
      const o = octetsOf(a.vip.address);
      return o ? octets(o) : undefined;
    }),
    // IPv4 only; keepalived returns the (possibly all-zero) broadcast address
    col(4, 'vrrpAddressBroadcast', (a) => (inetType(a.vip.address) === 1 ? octets(octetsOf(a.vip.broadcast) ?? [0, 0, 0, 0]) : undefined)),
    col(5, 'vrrpAddressMask', (a) => gauge(a.vip.prefix)),
    col(6, 'vrrpAddressScope', (a) => int(inetScope(a.vip.scope))),
    col(7, 'vrrpAddressIfIndex', (a) => int(vipIfindex(a.vip, a.inst))),
    col(8, 'vrrpAddressIfName', (a) => optStr(a.vip.dev || a.inst.ifp_ifname)),
    col(9, 'vrrpAddressIfAlias', (a) => optStr(a.vip.label)),
    col(10, 'vrrpAddressStatus', (a) => truth(a.vip.installed)),
    col(11, 'vrrpAddressAdvertising', (a) => truth(a.advertised)),
    col(12, 'vrrpAddressPeer', (a) => {
      const o = octetsOf(a.vip.peer);
      return o ? octets(o) : undefined;
    }),
  ];

  const syncGroupColumns: Column<SyncGroupSnapshot>[] = [
    col(2, 'vrrpSyncGroupName', (g) => str(g.name)),
    col(3, 'vrrpSyncGroupState', (g) => int(kaState(g.state))),
    col(4, 'vrrpSyncGroupSmtpAlert', (g) => truth(g.smtp_alert ?? false)),
    col(5, 'vrrpSyncGroupNotifyExec', (g) => truth(g.notify_exec ?? Boolean(g.script || g.script_master || g.script_backup || g.script_fault || g.script_stop))),
    col(6, 'vrrpSyncGroupScriptMaster', (g) => optStr(g.script_master)),
    col(7, 'vrrpSyncGroupScriptBackup', (g) => optStr(g.script_backup)),
    col(8, 'vrrpSyncGroupScriptFault', (g) => optStr(g.script_fault)),
    col(9, 'vrrpSyncGroupScript', (g) => optStr(g.script)),
    col(10, 'vrrpSyncGroupTrackingWeight', (g) => truth(g.tracking_weight ?? false)),
    col(11, 'vrrpSyncGroupScriptStop', (g) => optStr(g.script_stop)),
  ];

  const scriptColumns: Column<ScriptSnapshot>[] = [
    col(2, 'vrrpScriptName', (s) => str(s.name)),
    col(3, 'vrrpScriptCommand', (s) => str(s.command)),
    col(4, 'vrrpScriptInterval', (s) => int(Math.trunc(s.interval))),
    col(5, 'vrrpScriptWeight', (s) => int(s.weight)),
    col(6, 'vrrpScriptResult', (s) => int(scriptResult(s))),
    col(7, 'vrrpScriptRise', (s) => gauge(s.rise)),
    col(8, 'vrrpScriptFall', (s) => gauge(s.fall)),
    col(9, 'vrrpScriptWgtRev', (s) => truth(s.weight_reverse ?? false)),
  ];

  type TrackFile = NonNullable<MibContext['snap']['trackFiles']>[number];
  const fileColumns: Column<TrackFile>[] = [
    col(2, 'vrrpFileName', (f) => str(f.name)),
    col(3, 'vrrpFilePath', (f) => str(f.path)),
    col(4, 'vrrpFileResult', (f) => int(f.value)),
    col(5, 'vrrpFileWeight', (f) => int(f.weight)),
    col(6, 'vrrpFileWgtRev', (f) => truth(f.weight_reverse)),
  ];

  const objects: MibObject[] = [
    table('vrrpSyncGroupTable', e(1), syncGroupColumns, (ctx) => groups(ctx).map((g, i) => ({ index: [i + 1], row: g }))),
    table<string>('vrrpSyncGroupMemberTable', e(2), [col(2, 'vrrpSyncGroupMemberName', (n) => str(n))], (ctx) => nested(groups(ctx), (g) => g.members)),
    table('vrrpInstanceTable', e(3), instanceColumns, (ctx) => insts(ctx).map((i, k) => ({ index: [k + 1], row: i }))),
    table('vrrpTrackedInterfaceTable', e(4), trackedIfColumns, (ctx) => byIfIndex(insts(ctx), (i) => i.track_ifp)),
    table('vrrpTrackedScriptTable', e(5), trackedWeightColumns, (ctx) => nested(insts(ctx), (i) => instanceScripts(i, ctx.snap.scripts))),
    // vrrpInstanceIndex 0 holds static_ipaddress in keepalived; instances start at 1 and
    // number their VIPs then eVIPs from 1 (vrrp_header_ar_table).
    table('vrrpAddressTable', e(6), addressColumns, (ctx) => {
      const rows: Row<Addr>[] = [];
      insts(ctx).forEach((inst, k) => {
        let n = 0;
        for (const vip of inst.vips) rows.push({ index: [k + 1, ++n], row: { vip, inst, advertised: true } });
        for (const vip of inst.evips) rows.push({ index: [k + 1, ++n], row: { vip, inst, advertised: false } });
      });
      return rows;
    }),
    table('vrrpScriptTable', e(9), scriptColumns, (ctx) => ctx.snap.scripts.map((s, i) => ({ index: [i + 1], row: s }))),
    table('vrrpTrackedFileTable', e(12), trackedWeightColumns, (ctx) => nested(insts(ctx), (i) => i.track_file_weights)),
    table('vrrpFileTable', e(13), fileColumns, (ctx) => (ctx.snap.trackFiles ?? []).map((f, i) => ({ index: [i + 1], row: f }))),
    table('vrrpSyncTrackedInterfaceTable', e(14), trackedIfColumns, (ctx) => byIfIndex(groups(ctx), (g) => g.track_ifp)),
    table('vrrpSyncTrackedScriptTable', e(15), trackedWeightColumns, (ctx) => nested(groups(ctx), (g) => g.track_script_weights)),
    table('vrrpSyncTrackedFileTable', e(16), trackedWeightColumns, (ctx) => nested(groups(ctx), (g) => g.track_file_weights)),
    table('vrrpTrackedProcessTable', e(20), trackedWeightColumns, (ctx) => nested(insts(ctx), (i) => i.track_process_weights)),
    table('vrrpSyncTrackedProcessTable', e(22), trackedWeightColumns, (ctx) => nested(groups(ctx), (g) => g.track_process_weights)),
  ];
  return { name: 'KEEPALIVED-MIB vrrp', root: KA_VRRP, descr: 'The MIB module for KEEPALIVED-VRRP', objects };
}

// ---------------------------------------------------------------------------------------

type RsRow = { vs: VirtualServerSnapshot; rs: RealServerSnapshot; sorry: boolean };

/** 64-bit value split for the …Low/…High rate columns. */
const low32 = (n: number) => gauge(Number(BigInt.asUintN(32, BigInt(Math.max(0, Math.trunc(n))))));
const high32 = (n: number) => gauge(Number(BigInt.asUintN(32, BigInt(Math.max(0, Math.trunc(n))) >> 32n)));
const c32 = (n: number) => counter(Number(BigInt.asUintN(32, BigInt(Math.max(0, Math.trunc(n))))));

function realServerWeightSetter(opts: KeepalivedMibOptions): SetTester<RsRow> | undefined {
  const setter = opts.writable?.setRealServerWeight;
  if (!setter) return undefined;
  return (row, value) => {
    const v = integerValue(value);
    if (v === undefined) return { error: AxError.WrongType };
    // The range a configured real-server weight has (keepalived check_parser.c
    // rs_weight_handler: 0..IPVS_WEIGHT_LIMIT; the kernel refuses negative weights).
    // keepalived itself checks only the type and then stores the first byte of the value
    // ((unsigned)(*var_val)), so a SET of 300 gives weight 44 there; we take the whole value.
    if (v < 0 || v > IPVS_WEIGHT_LIMIT) return { error: AxError.WrongValue };
    if (!row) return { error: AxError.NoCreation };
    // keepalived never sets a sorry server's weight via SNMP
    if (row.sorry) return { error: AxError.NotWritable };
    const old = row.rs.weight;
    const { name, protocol } = row.vs;
    const rs = row.rs.address;
    // undo (a later varbind of the same SET failed) writes back the weight read at TestSet
    return { commit: () => setter(name, rs, v, protocol), undo: () => setter(name, rs, old, protocol) };
  };
}

function checkModule(opts: KeepalivedMibOptions): MibModule {
  const e = (t: number) => concatOid(KA_CHECK, [t, 1]);
  // keepalived's checker process (which owns this subtree) only runs with virtual servers
  // configured; with none the reference walk has nothing under .3 — and neither do we.
  const vss = (ctx: MibContext) => ctx.snap.virtualServers;

  const vsColumns: Column<VirtualServerSnapshot>[] = [];
  const V = (sub: number, name: string, get: (v: VirtualServerSnapshot, ctx: MibContext) => Value | undefined) => vsColumns.push(col(sub, name, get));
  const id = (v: VirtualServerSnapshot) => parseServerId(v.name);
  const ipId = (v: VirtualServerSnapshot) => {
    const x = id(v);
    return x?.kind === 'ip' ? x : undefined;
  };
  const vsFamily = (v: VirtualServerSnapshot) => {
    const x = ipId(v);
    if (x) return inetType(x.address);
    const rs = v.realServers[0] ? parseServerId(v.realServers[0].address) : undefined;
    return rs?.kind === 'ip' ? inetType(rs.address) : 1;
  };
  const up = (v: VirtualServerSnapshot) => v.realServers.filter((r) => r.up).length;
  const st = (v: VirtualServerSnapshot) => v.ipvs;
  const rt = (v: VirtualServerSnapshot) => v.rates;
  V(2, 'virtualServerType', (v) => int(id(v)?.kind === 'group' ? 3 : id(v)?.kind === 'fwmark' ? 1 : 2));
  V(3, 'virtualServerNameOfGroup', (v) => {
    const x = id(v);
    return x?.kind === 'group' ? str(x.group) : undefined;
  });
  V(4, 'virtualServerFwMark', (v) => {
    const x = id(v);
    return x?.kind === 'fwmark' ? gauge(x.fwmark) : undefined;
  });
  V(5, 'virtualServerAddrType', (v) => int(vsFamily(v)));
  V(6, 'virtualServerAddress', (v) => {
    const x = ipId(v);
    const o = x && octetsOf(x.address);
    return o ? octets(o) : undefined;
  });
  V(7, 'virtualServerPort', (v) => {
    const x = ipId(v);
    return x ? gauge(x.port) : undefined;
  });
  V(8, 'virtualServerProtocol', (v) => (id(v)?.kind === 'fwmark' ? undefined : int(vsProtocol(v.protocol))));
  V(9, 'virtualServerLoadBalancingAlgo', (v) => int(lbAlgo(v.scheduler)));
  V(10, 'virtualServerLoadBalancingKind', (v) => {
    const k = lbKind(v.forwarding);
    return k ? int(k) : undefined;
  });
  V(11, 'virtualServerStatus', (v) => truth(v.alive ?? (v.quorumMet || v.sorryActive)));
  V(12, 'virtualServerVirtualHost', (v) => optStr(v.virtualhost));
  V(13, 'virtualServerPersist', (v) => truth((v.persistence_timeout ?? 0) > 0));
  V(14, 'virtualServerPersistTimeout', (v) => ((v.persistence_timeout ?? 0) > 0 ? gauge(v.persistence_timeout ?? 0) : undefined));
  V(15, 'virtualServerPersistGranularity', (v) => (vsFamily(v) === 1 ? octets(octetsOf(v.persistence_granularity) ?? [0, 0, 0, 0]) : undefined));
  V(16, 'virtualServerDelayLoop', (v) => gauge(seconds(v.delay_loop, 60)));
  V(17, 'virtualServerHaSuspend', (v) => truth(v.ha_suspend ?? false));
  V(18, 'virtualServerAlpha', (v) => truth(v.alpha ?? false));
  V(19, 'virtualServerOmega', (v) => truth(v.omega ?? false));
  V(20, 'virtualServerRealServersTotal', (v) => gauge(v.realServers.length));
  V(21, 'virtualServerRealServersUp', (v) => gauge(up(v)));
  V(22, 'virtualServerQuorum', (v) => gauge(v.quorum));
  V(23, 'virtualServerQuorumStatus', (v) => truth(v.quorumMet));
  V(24, 'virtualServerQuorumUp', (v) => optStr(v.quorum_up));
  V(25, 'virtualServerQuorumDown', (v) => optStr(v.quorum_down));
  V(26, 'virtualServerHysteresis', (v) => gauge(v.hysteresis ?? 0));
  V(27, 'virtualServerStatsConns', (v) => gauge(st(v)?.conns ?? 0));
  V(28, 'virtualServerStatsInPkts', (v) => c32(st(v)?.inPkts ?? 0));
  V(29, 'virtualServerStatsOutPkts', (v) => c32(st(v)?.outPkts ?? 0));
  V(30, 'virtualServerStatsInBytes', (v) => counter64(st(v)?.inBytes ?? 0));
  V(31, 'virtualServerStatsOutBytes', (v) => counter64(st(v)?.outBytes ?? 0));
  V(32, 'virtualServerRateCps', (v) => low32(rt(v)?.cps ?? 0));
  V(33, 'virtualServerRateInPPS', (v) => low32(rt(v)?.inPps ?? 0));
  V(34, 'virtualServerRateOutPPS', (v) => low32(rt(v)?.outPps ?? 0));
  V(35, 'virtualServerRateInBPS', (v) => low32(rt(v)?.inBps ?? 0));
  V(36, 'virtualServerRateOutBPS', (v) => low32(rt(v)?.outBps ?? 0));
  V(37, 'virtualServerOPS', (v) => truth(v.ops ?? false));
  V(38, 'virtualServerStatsConns64', (v) => counter64(st(v)?.conns ?? 0));
  V(39, 'virtualServerStatsInPkts64', (v) => counter64(st(v)?.inPkts ?? 0));
  V(40, 'virtualServerStatsOutPkts64', (v) => counter64(st(v)?.outPkts ?? 0));
  const rates: [number, keyof NonNullable<VirtualServerSnapshot['rates']>][] = [
    [41, 'cps'],
    [43, 'inPps'],
    [45, 'outPps'],
    [47, 'inBps'],
    [49, 'outBps'],
  ];
  for (const [sub, k] of rates) {
    V(sub, `virtualServerRate${k}Low`, (v) => low32(rt(v)?.[k] ?? 0));
    V(sub + 1, `virtualServerRate${k}High`, (v) => high32(rt(v)?.[k] ?? 0));
  }
  V(51, 'virtualServerPersistGranularity6', (v) => {
    if (vsFamily(v) !== 2) return undefined;
    const m = /^\/?(\d+)$/.exec(v.persistence_granularity ?? '');
    return gauge(m ? Number(m[1]) : 128);
  });
  // IPVS scheduler flags (IP_VS_SVC_F_*): not configured → false, as keepalived reports them
  V(52, 'virtualServerHashed', () => truth(false));
  V(53, 'virtualServerSHFallback', () => truth(false));
  V(54, 'virtualServerSHPort', () => truth(false));
  V(55, 'virtualServerSched3', () => truth(false));
  V(56, 'virtualServerActionWhenDown', (v) => truth(!(v.inhibit ?? false)));
  V(57, 'virtualServerRetry', (v) => gauge(v.retry ?? 0));
  V(58, 'virtualServerDelayBeforeRetry', (v) => gauge(seconds(v.delay_before_retry)));
  V(59, 'virtualServerWarmup', (v) => gauge(seconds(v.warmup)));
  V(60, 'virtualServerWeight', (v) => int(v.weight ?? 1));
  V(61, 'virtualServerSmtpAlert', (v) => truth(v.smtp_alert ?? false));
  V(62, 'virtualServerMHFallback', () => truth(false));
  V(63, 'virtualServerMHPort', () => truth(false));
  V(64, 'virtualServerDelayLoopUsec', (v) => gauge(usec(v.delay_loop, 60)));
  V(65, 'virtualServerDelayBeforeRetrUsec', (v) => gauge(usec(v.delay_before_retry)));
  V(66, 'virtualServerWarmupUsec', (v) => gauge(usec(v.warmup)));
  V(67, 'virtualServerConnTimeoutUsec', (v) => gauge(usec(v.connect_timeout, 5)));
  V(68, 'virtualServerTunnelType', (v) => (lbKind(v.forwarding) === 3 ? int(1) : undefined));
  V(71, 'virtualServerName', (v) => optStr(v.snmp_name));

  const rsColumns: Column<RsRow>[] = [];
  const R = (sub: number, name: string, get: (r: RsRow, ctx: MibContext) => Value | undefined, set?: SetTester<RsRow>) => rsColumns.push(col(sub, name, get, set));
  const regular = (f: (r: RsRow) => Value | undefined) => (r: RsRow) => (r.sorry ? undefined : f(r));
  const rsIp = (r: RsRow) => {
    const x = parseServerId(r.rs.address);
    return x?.kind === 'ip' ? x : undefined;
  };
  const rst = (r: RsRow) => r.rs.ipvs;
  const rrt = (r: RsRow) => r.rs.rates;
  R(2, 'realServerType', (r) => int(r.sorry ? 2 : 1));
  R(3, 'realServerAddrType', (r) => {
    const x = rsIp(r);
    return x ? int(inetType(x.address)) : undefined;
  });
  R(4, 'realServerAddress', (r) => {
    const x = rsIp(r);
    const o = x && octetsOf(x.address);
    return o ? octets(o) : undefined;
  });
  R(5, 'realServerPort', (r) => {
    const x = rsIp(r);
    return x ? gauge(x.port) : undefined;
  });
  R(6, 'realServerStatus', regular((r) => truth(r.rs.up)));
  R(7, 'realServerWeight', regular((r) => int(r.rs.weight)), realServerWeightSetter(opts));
  R(8, 'realServerUpperConnectionLimit', regular((r) => (r.rs.upper_limit ? gauge(r.rs.upper_limit) : undefined)));
  R(9, 'realServerLowerConnectionLimit', regular((r) => (r.rs.lower_limit ? gauge(r.rs.lower_limit) : undefined)));
  R(10, 'realServerActionWhenDown', regular((r) => truth(!(r.rs.inhibit ?? r.vs.inhibit ?? false))));
  R(11, 'realServerNotifyUp', regular((r) => optStr(r.rs.notify_up)));
  R(12, 'realServerNotifyDown', regular((r) => optStr(r.rs.notify_down)));
  R(13, 'realServerFailedChecks', regular((r) => gauge(r.rs.failedChecks)));
  R(14, 'realServerStatsConns', (r) => gauge(rst(r)?.conns ?? 0));
  R(15, 'realServerStatsActiveConns', (r) => gauge(rst(r)?.activeConns ?? 0));
  R(16, 'realServerStatsInactiveConns', (r) => gauge(rst(r)?.inactiveConns ?? 0));
  R(17, 'realServerStatsPersistentConns', (r) => gauge(rst(r)?.persistentConns ?? 0));
  R(18, 'realServerStatsInPkts', (r) => c32(rst(r)?.inPkts ?? 0));
  R(19, 'realServerStatsOutPkts', (r) => c32(rst(r)?.outPkts ?? 0));
  R(20, 'realServerStatsInBytes', (r) => counter64(rst(r)?.inBytes ?? 0));
  R(21, 'realServerStatsOutBytes', (r) => counter64(rst(r)?.outBytes ?? 0));
  R(22, 'realServerRateCps', (r) => low32(rrt(r)?.cps ?? 0));
  R(23, 'realServerRateInPPS', (r) => low32(rrt(r)?.inPps ?? 0));
  R(24, 'realServerRateOutPPS', (r) => low32(rrt(r)?.outPps ?? 0));
  R(25, 'realServerRateInBPS', (r) => low32(rrt(r)?.inBps ?? 0));
  R(26, 'realServerRateOutBPS', (r) => low32(rrt(r)?.outBps ?? 0));
  R(27, 'realServerStatsConns64', (r) => counter64(rst(r)?.conns ?? 0));
  R(28, 'realServerStatsInPkts64', (r) => counter64(rst(r)?.inPkts ?? 0));
  R(29, 'realServerStatsOutPkts64', (r) => counter64(rst(r)?.outPkts ?? 0));
  const rsRates: [number, keyof NonNullable<RealServerSnapshot['rates']>][] = [
    [30, 'cps'],
    [32, 'inPps'],
    [34, 'outPps'],
    [36, 'inBps'],
    [38, 'outBps'],
  ];
  for (const [sub, k] of rsRates) {
    R(sub, `realServerRate${k}Low`, (r) => low32(rrt(r)?.[k] ?? 0));
    R(sub + 1, `realServerRate${k}High`, (r) => high32(rrt(r)?.[k] ?? 0));
  }
  R(40, 'realServerForwardingMethod', (r) => {
    const k = lbKind(r.rs.forwarding ?? r.vs.forwarding);
    return k ? int(k) : undefined;
  });
  R(41, 'realServerVirtualHost', (r) => optStr(r.rs.virtualhost));
  R(42, 'realServerAlpha', (r) => truth(r.rs.alpha ?? r.vs.alpha ?? false));
  R(43, 'realServerRetry', (r) => gauge(r.rs.retry ?? 0));
  R(44, 'realServerDelayBeforeRetry', (r) => gauge(seconds(r.rs.delay_before_retry)));
  R(45, 'realServerWarmup', (r) => gauge(seconds(r.rs.warmup)));
  R(46, 'realServerDelayLoop', (r) => gauge(seconds(r.rs.delay_loop ?? r.vs.delay_loop, 60)));
  R(47, 'realServerSmtpAlert', (r) => truth(r.rs.smtp_alert ?? false));
  R(48, 'realServerDelayBeforeRetryUsec', (r) => gauge(usec(r.rs.delay_before_retry)));
  R(49, 'realServerWarmupUsec', (r) => gauge(usec(r.rs.warmup)));
  R(50, 'realServerDelayLoopUsec', (r) => gauge(usec(r.rs.delay_loop ?? r.vs.delay_loop, 60)));
  R(51, 'realServerConnTimeoutUsec', (r) => gauge(usec(r.rs.connect_timeout ?? r.vs.connect_timeout, 5)));
  R(52, 'realServerTunnelType', (r) => {
    if (lbKind(r.rs.forwarding ?? r.vs.forwarding) !== 3) return undefined;
    return int(r.rs.tunnel_type === 'gue' ? 2 : r.rs.tunnel_type === 'gre' ? 3 : 1);
  });
  R(53, 'realServerTunnelPort', (r) => (lbKind(r.rs.forwarding ?? r.vs.forwarding) === 3 && r.rs.tunnel_type === 'gue' ? gauge(r.rs.tunnel_port ?? 0) : undefined));
  R(55, 'realServerName', (r) => optStr(r.rs.snmp_name));

  const groupNames = (ctx: MibContext) => {
    const names: string[] = [];
    for (const v of vss(ctx)) {
      const x = parseServerId(v.name);
      if (x?.kind === 'group' && !names.includes(x.group)) names.push(x.group);
    }
    return names;
  };
  const lvsd = (ctx: MibContext) => (vss(ctx).length ? ctx.snap.globals?.lvsSyncDaemon : undefined);
  const hasVs = (ctx: MibContext) => vss(ctx).length > 0;
  const S = (sub: number[], name: string, get: (ctx: MibContext) => Value | undefined) => scalar(name, concatOid(KA_CHECK, sub), get);
  const to = (ctx: MibContext, k: 'tcp' | 'tcpFin' | 'udp') => {
    const v = hasVs(ctx) ? ctx.snap.globals?.lvsTimeouts?.[k] : undefined;
    return v ? int(v) : undefined;
  };

  const objects: MibObject[] = [
    table<string>('virtualServerGroupTable', e(1), [col(2, 'virtualServerGroupName', (n) => str(n))], (ctx) => groupNames(ctx).map((n, i) => ({ index: [i + 1], row: n }))),
    table('virtualServerTable', e(3), vsColumns, (ctx) => vss(ctx).map((v, i) => ({ index: [i + 1], row: v }))),
    // realServerIndex counts the sorry server first (check_snmp_realserver)
    table('realServerTable', e(4), rsColumns, (ctx) => {
      const rows: Row<RsRow>[] = [];
      vss(ctx).forEach((vs, i) => {
        let n = 0;
        if (vs.sorry_server) rows.push({ index: [i + 1, ++n], row: { vs, rs: vs.sorry_server, sorry: true } });
        for (const rs of vs.realServers) rows.push({ index: [i + 1, ++n], row: { vs, rs, sorry: false } });
      });
      return rows;
    }),
    S([6, 1], 'lvsSyncDaemonEnabled', (ctx) => (hasVs(ctx) ? truth(lvsd(ctx) !== undefined) : undefined)),
    S([6, 2], 'lvsSyncDaemonInterface', (ctx) => optStr(lvsd(ctx)?.interface)),
    S([6, 3], 'lvsSyncDaemonVrrpInstance', (ctx) => optStr(lvsd(ctx)?.instance)),
    S([6, 4], 'lvsSyncDaemonSyncId', (ctx) => (lvsd(ctx) ? int(lvsd(ctx)?.syncId ?? 0) : undefined)),
    S([6, 5], 'lvsSyncDaemonMaxLen', (ctx) => (lvsd(ctx) ? int(lvsd(ctx)?.maxLen ?? 0) : undefined)),
    S([6, 6], 'lvsSyncDaemonPort', (ctx) => (lvsd(ctx) ? int(lvsd(ctx)?.port ?? 8848) : undefined)),
    S([6, 7], 'lvsSyncDaemonTTL', (ctx) => (lvsd(ctx) ? int(lvsd(ctx)?.ttl ?? 1) : undefined)),
    S([6, 8], 'lvsSyncDaemonMcastGroupAddrType', (ctx) => {
      const gaddr = lvsd(ctx)?.group;
      return gaddr ? int(inetType(gaddr)) : undefined;
    }),
    S([6, 9], 'lvsSyncDaemonMcastGroupAddrValue', (ctx) => {
      const o = octetsOf(lvsd(ctx)?.group);
      return o ? octets(o) : undefined;
    }),
    S([7, 1], 'lvsTimeoutTcp', (ctx) => to(ctx, 'tcp')),
    S([7, 2], 'lvsTimeoutTcpFin', (ctx) => to(ctx, 'tcpFin')),
    S([7, 3], 'lvsTimeoutUdp', (ctx) => to(ctx, 'udp')),
  ];
  return { name: 'KEEPALIVED-MIB check', root: KA_CHECK, descr: 'The MIB module for Healthchecker', objects };
}

/** The KEEPALIVED-MIB subtrees keepalived registers for these enable_snmp_* settings. */
export function keepalivedModules(opts: KeepalivedMibOptions): MibModule[] {
  const out: MibModule[] = [];
  if (opts.vrrp || opts.checker) out.push(globalModule(opts));
  if (opts.vrrp) out.push(vrrpModule(opts));
  if (opts.checker) out.push(checkModule(opts));
  return out;
}

