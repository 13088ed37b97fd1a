/**
 * keepalived's signal dumps, written from one AgentSnapshot:
 *   DATA  (SIGUSR1)      → keepalived.data   (keepalived 2.2.7 vrrp_data.c dump_data_vrrp)
 *   STATS (SIGUSR2)      → keepalived.stats  (vrrp_print.c vrrp_print_stats)
 *   STATS_CLEAR          → keepalived.stats, then the engine zeroes the counters
 *   JSON  (SIGRTMIN+2)   → keepalived.json   (vrrp_json.c, see json.ts)
 * in $TMPDIR when it is set and absolute, else /tmp (keepalived lib/utils.c
 * make_tmp_filename). Every file is written to a temporary name in the same directory
 * and renamed over the target, so a reader (mehdy/keepalived-exporter polls these
 * paths) never sees a half-written file — the race its issues #75/#161/#169 describe.
 * Mode 0600 like keepalived's fopen_safe with umask 0177.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AgentSnapshot, InstanceSnapshot, ScriptSnapshot, SyncGroupSnapshot } from '../state/snapshot';
import { formatG, renderKeepalivedJson } from './json';

/** keepalived make_tmp_filename(): $TMPDIR if absolute, else /tmp. */
export function dumpDir(env: NodeJS.ProcessEnv = process.env): string {
  const t = env.TMPDIR;
  return t && path.isAbsolute(t) ? t : '/tmp';
}

let tmpSeq = 0;
/** Write `content` to dir/name atomically (temp file in the same directory + rename). */
export async function writeAtomic(dir: string, name: string, content: string): Promise<string> {
  const target = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.${++tmpSeq}.tmp`);
  // 'wx': never follow/overwrite a pre-planted symlink at the temp name (keepalived uses O_NOFOLLOW).
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return target;
}

// ------------------------------------------------------------------ stats

/** keepalived.stats text, one block per instance (vrrp_print_stats, VRRP_AUTH build). */
export function renderStats(snapshot: AgentSnapshot): string {
  let out = '';
  for (const i of snapshot.instances) {
    const s = i.stats;
    out +=
      `VRRP Instance: ${i.iname}\n` +
      `  Advertisements:\n` +
      `    Received: ${u(s.advert_rcvd)}\n` +
      `    Sent: ${u(s.advert_sent)}\n` +
      `  Became master: ${u(s.become_master)}\n` +
      `  Released master: ${u(s.release_master)}\n` +
      `  Packet Errors:\n` +
      `    Length: ${u(s.packet_len_err)}\n` +
      `    TTL: ${u(s.ip_ttl_err)}\n` +
      `    Invalid Type: ${u(s.invalid_type_rcvd)}\n` +
      `    Advertisement Interval: ${u(s.advert_interval_err)}\n` +
      `    Address List: ${u(s.addr_list_err)}\n` +
      `  Authentication Errors:\n` +
      `    Invalid Type: ${u(s.invalid_authtype)}\n` +
      `    Type Mismatch: ${u(s.authtype_mismatch)}\n` +
      `    Failure: ${u(s.auth_failure)}\n` +
      `  Priority Zero:\n` +
      `    Received: ${u(s.pri_zero_rcvd)}\n` +
      `    Sent: ${u(s.pri_zero_sent)}\n`;
  }
  return out;
}

function u(v: number): string {
  return String(Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);
}

// ------------------------------------------------------------------ data

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** C asctime() fields in local time: "Tue Nov  4 10:11:03" and the year. */
function asctimeParts(d: Date): { head: string; year: number } {
  return {
    head: `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`,
    year: d.getFullYear(),
  };
}

/** keepalived "%ld.%6.6ld (ctime_us_r)" e.g. "1795515063.893748 (Tue Nov 24 10:11:03.893748 2026)". */
export function formatTimeval(wallSeconds: number): string {
  const sec = Math.floor(wallSeconds);
  let usec = Math.round((wallSeconds - sec) * 1e6);
  let s = sec;
  if (usec >= 1e6) {
    s += 1;
    usec -= 1e6;
  }
  const { head, year } = asctimeParts(new Date(s * 1000));
  const us = String(usec).padStart(6, '0');
  return `${s}.${us} (${head}.${us} ${year})`;
}

const stateStr = (s: string) => (s === 'STOP' ? 'STOP' : s);

function globalLines(s: AgentSnapshot): string[] {
  const g = s.globals ?? {};
  const b = (v: boolean | undefined, dflt: boolean) => ((v ?? dflt) ? 'true' : 'false');
  const en = (v: boolean | undefined) => (v ? 'enabled' : 'disabled');
  // keepalived 2.2.7 core/global_data.c dump_global_data, default configuration; the
  // nftables lines ("nftables without counters", "libnftnl version …") are left out:
  // keepwatch does not program nftables and must not claim a libnftnl version.
  const lines = [
    '------< Global definitions >------',
    ` Network namespace = ${g.netNamespace || '(default)'}`,
    ' Network namespace ipvs = (main namespace)',
    ` Router ID = ${s.routerId}`,
    ' Default smtp_alert = unset',
    ' Default smtp_alert_vrrp = unset',
    ' Default smtp_alert_checker = unset',
    ' Checkers log all failures = false',
    ' No test config before reload',
    ` Dynamic interfaces = ${b(g.dynamicInterfaces, false)}`,
    ` Default interface = ${g.defaultInterface ?? 'eth0'}`,
    ' Disable local IGMP = no',
    ' LVS flush = false',
    ' LVS flush on stop = disabled',
    ` FIFO write vrrp states on reload = ${b(g.fifoWriteVrrpStatesOnReload, false)}`,
    ` VRRP notify priority changes = ${b(g.vrrpNotifyPriorityChanges, false)}`,
    ` VRRP IPv4 mcast group = ${g.vrrpMcastGroup4 ?? '224.0.0.18'}`,
    ` VRRP IPv6 mcast group = ${g.vrrpMcastGroup6 ?? 'ff02::12'}`,
    ` Gratuitous ARP delay = ${u(g.garpDelay ?? 5)}`,
    ` Gratuitous ARP repeat = ${u(g.garpRepeat ?? 5)}`,
    ` Gratuitous ARP refresh timer = ${u(g.garpRefresh ?? 0)}`,
    ` Gratuitous ARP refresh repeat = ${u(g.garpRefreshRepeat ?? 1)}`,
    ` Gratuitous ARP lower priority delay = ${u(g.garpLowerPrioDelay ?? 5)}`,
    ` Gratuitous ARP lower priority repeat = ${u(g.garpLowerPrioRepeat ?? 5)}`,
    ` Num adverts before down = ${u(g.downTimerAdverts ?? 3)}`,
    ' Gratuitous ARP for each secondary VMAC = 0s',
    ` Send advert after receive lower priority advert = ${(g.lowerPrioNoAdvert ?? false) ? 'false' : 'true'}`,
    ` Send advert after receive higher priority advert = ${b(g.higherPrioSendAdvert, false)}`,
    ' Gratuitous ARP interval = 0.000000',
    ' Gratuitous NA interval = 0.000000',
    ` VRRP default protocol version = ${g.vrrpVersion ?? 2}`,
    ` VRRP check unicast_src = ${b(g.checkUnicastSrc, false)}`,
    ` VRRP skip check advert addresses = ${b(g.skipCheckAdvAddr, false)}`,
    ` VRRP strict mode = ${b(g.vrrpStrict, false)}`,
    ' Max auto priority = 0',
    ' Min auto priority delay = 1000000 usecs',
    ' VRRP process priority = 0',
    " VRRP don't swap = false",
    ' VRRP realtime priority = 0',
    ' VRRP realtime limit = 10000',
    ' Checker process priority = 0',
    " Checker don't swap = false",
    ' Checker realtime priority = 0',
    ' Checker realtime limit = 10000',
    ' BFD process priority = 0',
    " BFD don't swap = false",
    ' BFD realtime priority = 0',
    ' BFD realtime limit = 10000',
    ` SNMP vrrp ${en(g.snmpVrrp)}`,
    ` SNMP checker ${en(g.snmpChecker)}`,
    ` SNMP RFCv2 ${en(g.snmpRfcv2)}`,
    ` SNMP RFCv3 ${en(g.snmpRfcv3)}`,
    ` SNMP traps ${en(g.snmpTraps)}`,
    ` SNMP socket = ${g.snmpSocket ?? 'default (unix:/var/agentx/master)'}`,
    ' DBus disabled',
    ' DBus service name = ',
    ` Script security ${en(g.scriptSecurity)}`,
    ` Default script uid:gid ${g.scriptUidGid ?? '0:0'}`,
  ];
  for (const n of [
    'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_cmd_rcv_bufs_force',
    'vrrp_netlink_monitor_rcv_bufs',
    'vrrp_netlink_monitor_rcv_bufs_force',
    'process_monitor_rcv_bufs',
    'process_monitor_rcv_bufs_force',
    'lvs_netlink_cmd_rcv_bufs',
    'lvs_netlink_cmd_rcv_bufs_force',
    'lvs_netlink_monitor_rcv_bufs',
    'lvs_netlink_monitor_rcv_bufs_force',
    'rs_init_notifies',
    'no_checker_emails',
  ])
    lines.push(` ${n} = 0`);
  lines.push(' rx_bufs_multiples = 3', ' umask = 0177');
  return lines;
}

function instanceLines(i: InstanceSnapshot, s: AgentSnapshot): string[] {
  const L: string[] = [];
  const w = (x: string) => L.push(x);
  w(` VRRP Instance = ${i.iname}`);
  w(`   VRRP Version = ${i.version}`);
  if (i.sync_group) w(`   Sync group = ${i.sync_group}`);
  if (i.family === 'ipv6') w('   Using Native IPv6');
  w(`   State = ${stateStr(i.state)}`);
  if (i.state === 'BACKUP') {
    w(`   Master router = ${i.master_address}`);
    w(`   Master priority = ${i.master_priority}`);
    if (i.version === 3) w(`   Master advert int = ${i.master_adver_int.toFixed(2)} sec`);
  }
  if (i.unicast) {
    w('   Flags:');
    w('     Using unicast');
  } else w('   Flags: none');
  w(`   Wantstate = ${stateStr(i.wantstate)}`);
  w(`   Number of config faults = ${u(i.num_config_faults ?? 0)}`);
  w(`   Number of interface and track script faults = ${u(i.num_script_if_fault ?? 0)}`);
  w(`   Number of track scripts init = ${u(i.num_script_init ?? 0)}`);
  w(`   Last transition = ${formatTimeval(i.last_transition)}`);
  const readTimeout = i.read_timeout ?? s.takenAt / 1000 + (i.master_down_remaining ?? i.adver_int);
  w(`   Read timeout = ${formatTimeval(readTimeout)}`);
  // keepalived ms_down_timer is an integer number of microseconds (truncated).
  w(`   Master down timer = ${Math.floor(i.master_down_interval * 1e6 + 1e-6)} usecs`);
  w(`   Interface = ${i.ifp_ifname || 'not configured'}`);
  if (i.dont_track_primary) w('   VRRP interface tracking disabled');
  if (i.skip_check_adv_addr) w('   Skip checking advert IP addresses');
  if (i.strict_mode) w('   Enforcing strict VRRP compliance');
  w(`   Using src_ip = ${i.src_ip || '(none)'}`);
  if (!i.unicast) w(`   Multicast address ${i.mcast_daddr ?? (i.family === 'ipv6' ? (s.globals?.vrrpMcastGroup6 ?? 'ff02::12') : (s.globals?.vrrpMcastGroup4 ?? '224.0.0.18'))}`);
  w(`   Gratuitous ARP delay = ${u(i.garp_delay)}`);
  w(`   Gratuitous ARP repeat = ${u(i.garp_rep)}`);
  w(`   Gratuitous ARP refresh = ${u(i.garp_refresh)}`);
  w(`   Gratuitous ARP refresh repeat = ${u(i.garp_refresh_rep)}`);
  w(`   Gratuitous ARP lower priority delay = ${u(i.garp_lower_prio_delay)}`);
  w(`   Gratuitous ARP lower priority repeat = ${u(i.garp_lower_prio_rep)}`);
  w(`   Down timer adverts = ${u(i.down_timer_adverts ?? 3)}`);
  w(`   Send advert after receive lower priority advert = ${i.lower_prio_no_advert ? 'false' : 'true'}`);
  w(`   Send advert after receive higher priority advert = ${i.higher_prio_send_advert ? 'true' : 'false'}`);
  w(`   Virtual Router ID = ${i.vrid}`);
  w(`   Priority = ${i.base_priority}`);
  w(`   Effective priority = ${i.effective_priority}`);
  w(`   Total priority = ${i.total_priority ?? i.effective_priority}`);
  // v2: whole seconds; v3: milliseconds (keepalived dump_vrrp)
  w(`   Advert interval = ${i.version === 2 ? `${Math.trunc(i.adver_int)} sec` : `${Math.round(i.adver_int * 1000)} milli-sec`}`);
  if (i.state === 'BACKUP' && i.version === 3) w(`   Master advert interval = ${Math.round(i.master_adver_int * 1000)} milli-sec`);
  w(`   Accept = ${i.accept ? 'enabled' : 'disabled'}`);
  w(`   Preempt = ${i.nopreempt ? 'disabled' : 'enabled'}`);
  if (i.preempt_delay) w(`   Preempt delay = ${formatG(i.preempt_delay)} secs`);
  w(`   Promote_secondaries = ${i.promote_secondaries ? 'enabled' : 'disabled'}`);
  if (i.auth_type) {
    w(`   Authentication type = ${i.auth_type === 2 ? 'IPSEC_AH' : 'SIMPLE_PASSWORD'}`);
    // keepalived 2.2.7 prints the plaintext password here; keepwatch never writes secrets.
    if (i.auth_type !== 2) w('   Password = ********');
  } else if (i.version === 2) w('   Authentication type = none');
  if (i.vips.length) {
    w(`   Virtual IP (${i.vips.length}):`);
    for (const v of i.vips) w(`     ${v.text}`);
  }
  if (i.evips.length) {
    w('   Virtual IP Excluded :');
    for (const v of i.evips) w(`     ${v.text}`);
  }
  if (i.unicast) {
    w('   Check unicast src : no');
    w('   Unicast Peer :');
    for (const p of i.unicast_peers) w(`     ${p} min_ttl 0 max_ttl 255`);
  }
  // keepalived prints its socket fds here ("fd_in 18, fd_out 19"); keepwatch has none to show.
  if (i.vroutes?.length) {
    w('   Virtual Routes :');
    for (const r of i.vroutes) w(`     ${r}`);
  }
  if (i.vrules?.length) {
    w('   Virtual Rules :');
    for (const r of i.vrules) w(`     ${r}`);
  }
  // keepalived vrrp_track.c dump_track_if / dump_track_script: "     NAME weight W[ reverse]"
  const rev = (r: boolean | undefined) => (r ? ' reverse' : '');
  if (i.track_ifp?.length || i.track_interface.length) {
    w('   Tracked interfaces :');
    if (i.track_ifp?.length) for (const t of i.track_ifp) w(`     ${t.name} weight ${t.weight}${rev(t.weight_reverse)}`);
    else for (const t of i.track_interface) w(`     ${t} weight 0`);
  }
  if (i.track_script_weights?.length || i.track_script.length) {
    w('   Tracked scripts :');
    const byName = new Map(s.scripts.map((x) => [x.name, x]));
    if (i.track_script_weights?.length) for (const t of i.track_script_weights) w(`     ${t.name} weight ${t.weight}${rev(t.weight_reverse)}`);
    else for (const t of i.track_script) w(`     ${t} weight ${byName.get(t)?.weight ?? 0}${rev(byName.get(t)?.weight_reverse)}`);
  }
  if (i.track_file_weights?.length) {
    w('   Tracked files :');
    for (const t of i.track_file_weights) w(`     ${t.name} weight ${t.weight}${rev(t.weight_reverse)}`);
  }
  if (i.track_process_weights?.length || i.track_process?.length) {
    w('   Tracked processes :');
    if (i.track_process_weights?.length) for (const t of i.track_process_weights) w(`     ${t.name} weight ${t.weight}${rev(t.weight_reverse)}`);
    else for (const t of i.track_process ?? []) w(`     ${t} weight 0`);
  }
  w(`   Using smtp notification = ${i.smtp_alert ? 'yes' : 'no'}`);
  w(`   Notify deleted = ${i.notify_deleted ? 'Deleted' : 'Fault'}`);
  const ns = (v: string | undefined, type: string) => {
    if (v) w(`   ${type} state transition script = ${v}, uid:gid 0:0`);
  };
  ns(i.script_backup, 'Backup');
  ns(i.script_master, 'Master');
  ns(i.script_fault, 'Fault');
  ns(i.script_stop, 'Stop');
  ns(i.script_deleted, 'Deleted');
  ns(i.script, 'Generic');
  ns(i.script_master_rx_lower_pri, 'Master rx lower pri');
  w(`   Notify priority changes = ${i.notify_priority_changes ? 'true' : 'false'}`);
  return L;
}

function syncGroupLines(g: SyncGroupSnapshot, s: AgentSnapshot): string[] {
  const members = s.instances.filter((i) => g.members.includes(i.iname));
  const L = [
    ` VRRP Sync Group = ${g.name}, ${stateStr(g.state)}`,
    `   Num member fault ${members.filter((i) => i.state === 'FAULT').length}, num member init ${members.filter((i) => i.state === 'INIT').length}`,
  ];
  if (g.members.length) {
    L.push('   VRRP member instances :');
    for (const m of g.members) L.push(`     ${m}`);
  }
  L.push('   Using smtp notification = no');
  return L;
}

function scriptLines(sc: ScriptSnapshot, s: AgentSnapshot): string[] {
  const result = sc.result ?? (sc.status === 'good' ? sc.rise + sc.fall - 1 : 0);
  const init = sc.status === 'init' ? 'INIT' : sc.status === 'init_failed' ? 'INIT/FAILED' : 'unknown';
  const state = ['idle', 'running', 'requested termination', 'forcing termination'][sc.state] ?? 'unknown';
  const L = [
    ` VRRP Script = ${sc.name}`,
    `   Command = ${sc.command}`,
    `   Interval = ${u(sc.interval)} sec`,
    `   Timeout = ${u(sc.timeout ?? 0)} sec`,
    `   Weight = ${sc.weight}${sc.weight_reverse ? ' reverse' : ''}`,
    `   Rise = ${sc.rise}`,
    `   Fall = ${sc.fall}`,
    `   Result = ${result}`,
    `   Insecure = ${sc.insecure ? 'yes' : 'no'}`,
    `   Init state = ${init}`,
    // keepalived: Status = GOOD when result >= rise
    `   Status = ${result >= sc.rise ? 'GOOD' : 'BAD'}`,
    `   Script uid:gid = ${sc.uid ?? 0}:${sc.gid ?? 0}`,
    '   VRRP instances :',
    '   Tracking instances :',
  ];
  // keepalived dump_tracking_vrrp: "     INAME, weight W[ reverse]" with the instance's own weight for this script
  for (const i of s.instances) {
    const tw = i.track_script_weights?.find((t) => t.name === sc.name);
    if (tw) L.push(`     ${i.iname}, weight ${tw.weight}${tw.weight_reverse ? ' reverse' : ''}`);
    else if (i.track_script.includes(sc.name)) L.push(`     ${i.iname}, weight ${sc.weight}${sc.weight_reverse ? ' reverse' : ''}`);
  }
  L.push(`   State = ${state}`);
  return L;
}

/**
 * keepalived.data: global definitions, VRRP topology, sync groups and scripts in
 * keepalived 2.2.7's layout. Left out because keepwatch has no such objects: the
 * "VRRP Sockpool" section (keepalived's socket fds) and the "Interfaces" section.
 * keepalived's man page calls this format unstable; the lines exporters parse
 * (VRRP Instance, State, Wantstate, Interface, Virtual Router ID, Priority, Virtual IP,
 * VRRP Script, Status, State) are exactly keepalived's.
 */
export function renderData(s: AgentSnapshot): string {
  const L = globalLines(s);
  if (s.instances.length) {
    L.push('------< VRRP Topology >------');
    for (const i of s.instances) L.push(...instanceLines(i, s));
  }
  if (s.syncGroups.length) {
    L.push('------< VRRP Sync groups >------');
    for (const g of s.syncGroups) L.push(...syncGroupLines(g, s));
  }
  if (s.scripts.length) {
    L.push('------< VRRP Scripts >------');
    for (const sc of s.scripts) L.push(...scriptLines(sc, s));
  }
  return L.join('\n') + '\n';
}

// ------------------------------------------------------------------ writers

export async function writeStatsDump(snapshot: AgentSnapshot, dir: string = dumpDir()): Promise<string> {
  return writeAtomic(dir, 'keepalived.stats', renderStats(snapshot));
}

export async function writeDataDump(snapshot: AgentSnapshot, dir: string = dumpDir()): Promise<string> {
  return writeAtomic(dir, 'keepalived.data', renderData(snapshot));
}

/** keepalived writes nothing when there are no VRRP instances (vrrp_print_json); so do we (returns null). */
export async function writeJsonDump(snapshot: AgentSnapshot, dir: string = dumpDir()): Promise<string | null> {
  if (snapshot.instances.length === 0) return null;
  return writeAtomic(dir, 'keepalived.json', renderKeepalivedJson(snapshot));
}

/**
 * STATS_CLEAR (SIGRTMAX-1, keepalived ≥ 2.1.0): write keepalived.stats from the snapshot
 * taken BEFORE the counters are cleared, then let the engine zero them. The snapshot is
 * taken synchronously here, so nothing can count in between.
 */
export async function writeStatsDumpThenClear(snapshot: () => AgentSnapshot, clear: () => void, dir: string = dumpDir()): Promise<string> {
  const s = snapshot();
  clear();
  return writeStatsDump(s, dir);
}
