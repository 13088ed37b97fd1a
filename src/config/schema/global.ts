/**
 * global_defs and the root-level globals, as keepalived 2.2.7
 * core/global_parser.c init_global_keywords() reads them. Messages and error
 * classes follow the C handlers so `-t` verdicts match.
 */
import * as os from 'node:os';
import { ConfErr } from './diag';
import { kw, root, type Kw, type StrVec } from './engine';
import { checkTrueFalse, readDecimal, readInt, readUnsigned, UINT_MAX } from './cnum';
import { inetStosockaddr, isMulticast, isMcLinkLocal6, parseIp } from './inet';
import { notifyScriptInit } from './scripts';
import { rawLine, type Ctx } from './ctx';
import type { LvsSyncDaemon } from '../model';

const TIMER_HZ = 1000000;
const LVS_MAX_TIMEOUT = 86400 * 31;
/** sched_get_priority_min/max(SCHED_RR) on Linux */
const RR_MIN = 1;
const RR_MAX = 99;

export function globalKeywords(ctx: Ctx, active: boolean): Kw[] {
  const { rep, g } = ctx;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);

  const bool = (sv: StrVec, what: string, set: (v: boolean) => void, quote = true): void => {
    let res = true;
    if (sv.size >= 2) {
      const r = checkTrueFalse(sv.slot(1));
      if (r < 0) {
        err(quote ? `Invalid value '${sv.slot(1)}' for global ${what} specified` : `Invalid value for ${what} specified`);
        return;
      }
      res = r === 1;
    }
    set(res);
  };

  const processName = (sv: StrVec, set: (v: string) => void): void => {
    const src = sv.slot(1);
    let name = src;
    if (name.length >= 16) {
      err(`Process name ${src} more than 15 characters, truncating`);
      name = name.slice(0, 15);
    }
    set(name);
  };

  const startStop = (sv: StrVec, startup: boolean): void => {
    if (ctx.prog !== 'parent') return;
    const type = startup ? 'startup' : 'shutdown';
    if (startup ? g.startupScript : g.shutdownScript) {
      err(`${type} script already specified`);
      return;
    }
    if (sv.size < 2) {
      err(`${type} script missing`);
      return;
    }
    const s = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv), type);
    if (!s) {
      err(`Invalid ${type} script`);
      return;
    }
    if (startup) {
      g.startupScript = s;
      g.startupScriptTimeoutS ??= 10;
    } else {
      g.shutdownScript = s;
      g.shutdownScriptTimeoutS ??= 10;
    }
  };

  const startStopTimeout = (sv: StrVec, startup: boolean): void => {
    if (ctx.prog !== 'parent') return;
    const type = startup ? 'startup' : 'shutdown';
    if (sv.size < 2) {
      err(`${type}_script_timeout requires value`);
      return;
    }
    const v = readUnsigned(rep, sv.slot(1), 1, 1000);
    if (v === null) {
      err(`${type}_script_timeout '${sv.slot(1)}' must be in [1, 1000] - ignoring`);
      return;
    }
    if (startup) g.startupScriptTimeoutS = v;
    else g.shutdownScriptTimeoutS = v;
  };

  const rtPriority = (sv: StrVec, proc: 'vrrp' | 'checker' | 'bfd'): void => {
    if (sv.size < 2) {
      err(`No ${proc} process real-time priority specified`);
      return;
    }
    let p = readInt(rep, sv.slot(1), -2147483648, 2147483647);
    if (p === null) {
      err(`${proc} process real-time priority '${sv.slot(1)}' invalid`);
      return;
    }
    if (p < RR_MIN) {
      err(`${proc} process real-time priority ${p} less than minimum ${RR_MIN} - setting to minimum`);
      p = RR_MIN;
    } else if (p > RR_MAX) {
      err(`${proc} process real-time priority ${p} greater than maximum ${RR_MAX} - setting to maximum`);
      p = RR_MAX;
    }
    g.processTune[proc].rtPriority = p;
  };

  const cpuAffinity = (sv: StrVec, proc: 'vrrp' | 'checker' | 'bfd'): void => {
    if (sv.size < 2) {
      err(`No ${proc} cpu_id set specified`);
      return;
    }
    const ncpu = os.cpus().length;
    const set: number[] = [];
    for (let i = 1; i < sv.size; i++) {
      const v = readInt(rep, sv.slot(i), 0, ncpu - 1);
      if (v === null) {
        err(`Invalid cpu_id:${0} specified for ${proc} process`);
        return;
      }
      set.push(v);
    }
    g.processTune[proc].cpuAffinity = set;
  };

  const rtRlimit = (sv: StrVec, proc: 'vrrp' | 'checker' | 'bfd'): void => {
    const k = sv.slot(0);
    if (k[k.length - 5] === 'r') rep.log(`Keyword '${k}' is deprecated - please use '${k.slice(0, -5)}rttime'`);
    let v = readUnsigned(rep, sv.slot(1), 1, UINT_MAX);
    if (v === null) {
      err(`Invalid ${proc} real-time limit - ${sv.slot(1)}`);
      v = 0;
    }
    if (v === 1) v = 2;
    g.processTune[proc].rlimitRttimeUs = v;
  };

  const prio = (sv: StrVec, proc: 'vrrp' | 'checker' | 'bfd'): void => {
    if (sv.size < 2) {
      err(`No ${proc} process priority specified`);
      g.processTune[proc].priority = 0;
      return;
    }
    const v = readInt(rep, sv.slot(1), -20, 19);
    if (v === null) {
      err(`Invalid ${proc} process priority specified`);
      g.processTune[proc].priority = 0;
      return;
    }
    g.processTune[proc].priority = v;
  };

  const fifo = (sv: StrVec, type: '' | 'vrrp_' | 'lvs_', f: NonNullable<typeof g.notifyFifo>): void => {
    if (sv.size < 2) {
      err(`No ${type}notify_fifo name specified`);
      return;
    }
    if (f.path) {
      err(`${type}notify_fifo already specified - ignoring ${sv.slot(1)}`);
      return;
    }
    if (sv.size > 2) {
      if (!ctx.users.resolve(sv.slot(2), sv.raw(3))) {
        rep.log(`Invalid user/group for ${type} fifo - ignoring`);
        return;
      }
      f.user = sv.slot(2);
      f.group = sv.raw(3);
    } else if (!ctx.users.getDefault()) {
      rep.log(`Failed to set default user for ${type} fifo - ignoring`);
      return;
    }
    f.path = sv.slot(1);
  };

  const fifoScript = (sv: StrVec, type: '' | 'vrrp_' | 'lvs_', f: NonNullable<typeof g.notifyFifo>): void => {
    if (sv.size < 2) {
      err(`No ${type}notify_fifo_script specified`);
      return;
    }
    if (f.script) {
      err(`${type}notify_fifo_script already specified - ignoring ${sv.slot(1)}`);
      return;
    }
    f.script = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv), `${type}notify_fifo`) ?? undefined;
  };

  const rcvBufs = (sv: StrVec | null, key: keyof typeof g.netlinkRcvBufs, type: string): void => {
    if (!sv) return;
    if (sv.size < 2) {
      err(`${type}_rcv_bufs size missing`);
      return;
    }
    const v = readUnsigned(rep, sv.slot(1), 0, UINT_MAX);
    if (v === null) {
      err(`${type}_rcv_bufs size (${sv.slot(1)}) invalid`);
      return;
    }
    if (v) g.netlinkRcvBufs[key] = { ...g.netlinkRcvBufs[key], size: v };
  };
  const rcvBufsForce = (sv: StrVec | null, key: keyof typeof g.netlinkRcvBufs, what: string): void => {
    if (!sv) return;
    bool(sv, what, (v) => (g.netlinkRcvBufs[key] = { ...g.netlinkRcvBufs[key], force: v }));
  };

  const subs: Kw[] = [
    kw('process_names', () => {
      g.vrrpProcessName = 'keepalived_vrrp';
      g.checkerProcessName = 'keepalived_lvs';
      g.bfdProcessName = 'keepalived_bfd';
    }),
    kw('process_name', (sv) => processName(sv!, (v) => (g.processName = v))),
    kw('vrrp_process_name', (sv) => processName(sv!, (v) => (g.vrrpProcessName = v))),
    kw('checker_process_name', (sv) => processName(sv!, (v) => (g.checkerProcessName = v))),
    kw('lvs_process_name', (sv) => {
      rep.log(`'lvs_process_name' is deprecated - please use 'checker_process_name'`);
      processName(sv!, (v) => (g.checkerProcessName = v));
    }),
    kw('bfd_process_name', (sv) => processName(sv!, (v) => (g.bfdProcessName = v))),
    kw('router_id', (sv) => {
      if (sv!.size < 2) return err('routerid name missing - ignoring');
      g.routerId = sv!.slot(1);
    }),
    kw('notification_email_from', (sv) => {
      if (sv!.size < 2) return err('emailfrom missing - ignoring');
      g.notificationEmailFrom = sv!.slot(1);
    }),
    kw('smtp_server', (sv) => {
      const s = sv!;
      const portStr = s.size >= 3 ? s.slot(2) : '25';
      const host = s.slot(1);
      let ok = false;
      if (!/[-/]/.test(host)) {
        const a = inetStosockaddr(rep, host, portStr);
        if (a) {
          g.smtpServer = { host: a.ip.text, port: a.port, family: a.ip.family };
          ok = true;
        }
      }
      if (!ok) {
        // domain_stosockaddr(): getaddrinfo() on the name
        const port = readUnsigned(rep, portStr, 1, 65535);
        const fam = port === null ? null : ctx.host.resolve(host);
        if (fam && port !== null) g.smtpServer = { host, port, family: fam };
        else err(`Invalid smtp server ${host} ${portStr}`);
      }
    }),
    kw('smtp_helo_name', (sv) => {
      if (sv!.size < 2) return;
      g.smtpHeloName = sv!.slot(1);
    }),
    kw('smtp_connect_timeout', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
      if (v === null) return err(`smtp_connect_timeout '${sv!.slot(1)}' must be in [0, ${Math.floor(UINT_MAX / TIMER_HZ)}] - ignoring`);
      if (v === 0) {
        err('smtp_conect_timeout must be greater than 0, setting to 1');
        v = 1;
      }
      g.smtpConnectTimeoutS = v;
    }),
    kw('notification_email', (sv) => {
      const words = ctx.d.readValueBlock(sv!);
      if (!words) return err('Warning - empty notification_email block');
      g.notificationEmail.push(...words);
    }),
    kw('smtp_alert', (sv) => bool(sv!, 'smtp_alert', (v) => (g.smtpAlert = v))),
    kw('startup_script', (sv) => startStop(sv!, true)),
    kw('startup_script_timeout', (sv) => startStopTimeout(sv!, true)),
    kw('shutdown_script', (sv) => startStop(sv!, false)),
    kw('shutdown_script_timeout', (sv) => startStopTimeout(sv!, false)),
    kw('max_auto_priority', (sv) => {
      if (sv!.size < 2) {
        g.maxAutoPriority = RR_MAX;
        return;
      }
      const v = readInt(rep, sv!.slot(1), -1, RR_MAX);
      if (v === null) return err(`max_auto_priority '${sv!.slot(1)}' must be in [0, ${RR_MAX}] (or -1 to disable) - ignoring`);
      g.maxAutoPriority = v;
    }),
    kw('min_auto_priority_delay', (sv) => {
      if (sv!.size < 2) return err('min_auto_priority_delay requires delay time');
      const v = readInt(rep, sv!.slot(1), 1, 10000000);
      if (v === null) return err(`min_auto_priority_delay '${sv!.slot(1)}' must be in [1, 10000000] - ignoring`);
      g.minAutoPriorityDelayUs = v;
    }),
    kw('smtp_alert_vrrp', (sv) => bool(sv!, 'smtp_alert_vrrp', (v) => (g.smtpAlertVrrp = v))),
    kw('smtp_alert_checker', (sv) => bool(sv!, 'smtp_alert_checker', (v) => (g.smtpAlertChecker = v))),
    kw('checker_log_all_failures', (sv) => bool(sv!, 'checker_log_all_failures', (v) => (g.checkerLogAllFailures = v), false)),
    kw('dynamic_interfaces', (sv) => {
      g.dynamicInterfaces = true;
      if (sv!.size >= 2) {
        if (sv!.slot(1) === 'allow_if_changes') g.allowIfChanges = true;
        else err(`Unknown dynamic_interfaces option '${sv!.slot(1)}'`);
      }
    }),
    kw('no_email_faults', () => (g.noEmailFaults = true)),
    kw('default_interface', (sv) => {
      if (sv!.size < 2) return err('default_interface requires interface name');
      g.defaultInterface = sv!.slot(1);
    }),
    kw('disable_local_igmp', () => {
      if (!ctx.host.igmpLinkLocalWritable()) return err('kernel does not support /proc/sys/net/ipv4/igmp_link_local_mcast_reports');
      g.disableLocalIgmp = true;
    }),
    kw('lvs_timeouts', (sv) => {
      const s = sv!;
      if (s.size < 3) return err('lvs_timeouts requires at least one option');
      for (let i = 1; i < s.size; i++) {
        const o = s.slot(i);
        const key = o === 'tcp' ? 'tcpS' : o === 'tcpfin' ? 'tcpfinS' : o === 'udp' ? 'udpS' : null;
        if (!key) {
          err(`Unknown option ${o} specified for lvs_timeouts`);
          continue;
        }
        if (i === s.size - 1) {
          err(`No value specified for lvs_timeout ${o} - ignoring`);
          continue;
        }
        const v = readUnsigned(rep, s.slot(i + 1), 0, LVS_MAX_TIMEOUT);
        if (v === null) err(`Invalid lvs_timeout ${o} (${s.slot(i + 1)}) - ignoring`);
        else g.lvsTimeouts[key] = v;
        i++;
      }
    }),
    kw('lvs_flush', () => (g.lvsFlush = true)),
    kw('lvs_flush_on_stop', (sv) => lvsFlushOnStop(sv!)),
    kw('lvs_flush_onstop', (sv) => lvsFlushOnStop(sv!)),
    kw('lvs_sync_daemon', (sv) => lvsSyncd(sv!)),
    kw('vrrp_mcast_group4', (sv) => {
      const a = inetStosockaddr(rep, sv!.slot(1), null);
      if (!a) return err(`Can't parse vrrp_mcast_group4 [${sv!.slot(1)}]. Skipping`);
      if (a.ip.family !== 'inet') return err(`vrrp_mcast_group4 [${sv!.slot(1)}] is not IPv4. Skipping`);
      if (!isMulticast(a.ip)) return err(`vrrp_mcast_group4 [${sv!.slot(1)}] is not multicast. Skipping`);
      g.vrrpMcastGroup4 = a.ip.text;
    }),
    kw('vrrp_mcast_group6', (sv) => {
      const a = inetStosockaddr(rep, sv!.slot(1), null);
      if (!a) return err(`Can't parse vrrp_mcast_group6 [${sv!.slot(1)}]. Skipping`);
      if (a.ip.family !== 'inet6') return err(`vrrp_mcast_group6 [${sv!.slot(1)}] is not IPv6. Skipping`);
      if (!isMulticast(a.ip)) return err(`vrrp_mcast_group6 [${sv!.slot(1)}] is not multicast. Skipping`);
      if (!isMcLinkLocal6(a.ip)) rep.error(ConfErr.WARNING, `vrrp_mcast_group6 [${sv!.slot(1)}] should be link-local multicast.`);
      g.vrrpMcastGroup6 = a.ip.text;
    }),
    kw('vrrp_garp_master_delay', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
      if (v === null) return err(`vrrp_garp_master_delay '${sv!.slot(1)}' invalid - ignoring`);
      g.vrrpGarpMasterDelayS = v;
    }),
    kw('vrrp_garp_master_repeat', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`vrrp_garp_master_repeat '${sv!.slot(1)}' invalid - ignoring`);
      if (v === 0) {
        err('vrrp_garp_master_repeat must be greater than 0, setting to 1');
        v = 1;
      }
      g.vrrpGarpMasterRepeat = v;
    }),
    kw('vrrp_garp_master_refresh', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) err(`Invalid vrrp_garp_master_refresh '${sv!.slot(1)}' - ignoring`);
      g.vrrpGarpMasterRefreshS = v ?? 0;
    }),
    kw('vrrp_garp_master_refresh_repeat', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`vrrp_garp_master_refresh_repeat '${sv!.slot(1)}' invalid - ignoring`);
      if (v === 0) {
        err('vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1');
        v = 1;
      }
      g.vrrpGarpMasterRefreshRepeat = v;
    }),
    kw('vrrp_garp_lower_prio_delay', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
      if (v === null) return err(`vrrp_garp_lower_prio_delay '${sv!.slot(1)}' invalid - ignoring`);
      g.vrrpGarpLowerPrioDelayS = v;
      g.vrrpGarpLowerPrioDelayUnset = false;
    }),
    kw('vrrp_garp_lower_prio_repeat', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, 2147483647);
      if (v === null) return err(`Invalid vrrp_garp_lower_prio_repeat '${sv!.slot(1)}'`);
      g.vrrpGarpLowerPrioRepeat = v;
      g.vrrpGarpLowerPrioRepeatUnset = false;
    }),
    kw('vrrp_down_timer_adverts', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 1, 100);
      if (v === null) return err(`Invalid vrrp_down_timer_adverts [1:100] '${sv!.slot(1)}'`);
      g.vrrpDownTimerAdverts = v;
    }),
    kw('vrrp_garp_interval', (sv) => {
      const v = readDecimal(rep, sv!.slot(1), 1, UINT_MAX, 6);
      if (v === null) err(`vrrp_garp_interval '${sv!.slot(1)}' is invalid`);
      else g.vrrpGarpIntervalUs = v;
      if ((g.vrrpGarpIntervalUs ?? 0) >= TIMER_HZ) rep.log(`The vrrp_garp_interval is very large - ${sv!.slot(1)} seconds`);
    }),
    kw('vrrp_gna_interval', (sv) => {
      const v = readDecimal(rep, sv!.slot(1), 1, UINT_MAX, 6);
      if (v === null) err(`vrrp_gna_interval '${sv!.slot(1)}' is invalid`);
      else g.vrrpGnaIntervalUs = v;
      if ((g.vrrpGnaIntervalUs ?? 0) >= TIMER_HZ) rep.log(`The vrrp_gna_interval is very large - ${sv!.slot(1)} seconds`);
    }),
    kw('vrrp_min_garp', (sv) => {
      if (sv!.size >= 2) {
        const r = checkTrueFalse(sv!.slot(1));
        if (r < 0) return err('Invalid value for vrrp_min_garp specified');
        if (!r) return;
      }
      g.vrrpMinGarp = true;
      // only the values still at their defaults change (global_parser.c)
      if ((g.vrrpGarpMasterRepeat ?? 5) === 5) g.vrrpGarpMasterRepeat = 1;
      if ((g.vrrpGarpMasterRefreshS ?? 0) === 0) g.vrrpGarpMasterRefreshS = 0;
      if ((g.vrrpGarpMasterRefreshRepeat ?? 1) === 1) g.vrrpGarpMasterRefreshRepeat = 0;
      if ((g.vrrpGarpMasterDelayS ?? 5) === 5) g.vrrpGarpMasterDelayS = 0;
    }),
    kw('vrrp_garp_extra_if', (sv) => garpExtraIf(sv!)),
    kw('vrrp_vmac_garp_intvl', (sv) => garpExtraIf(sv!)),
    kw('vrrp_lower_prio_no_advert', (sv) => {
      if (sv!.size >= 2) {
        const r = checkTrueFalse(sv!.slot(1));
        if (r < 0) err('Invalid value for vrrp_lower_prio_no_advert specified');
        else g.vrrpLowerPrioNoAdvert = r === 1;
      } else g.vrrpLowerPrioNoAdvert = true;
    }),
    kw('vrrp_higher_prio_send_advert', (sv) => {
      if (sv!.size >= 2) {
        const r = checkTrueFalse(sv!.slot(1));
        if (r < 0) err('Invalid value for vrrp_higher_prio_send_advert specified');
        else g.vrrpHigherPrioSendAdvert = r === 1;
      } else g.vrrpHigherPrioSendAdvert = true;
    }),
    kw('vrrp_version', (sv) => {
      const v = readInt(rep, sv!.slot(1), 2, 3);
      if (v === null) return err('VRRP Error: Version must be either 2 or 3');
      g.vrrpVersion = v as 2 | 3;
    }),
    // Debian's 2.2.7 is built with nftables and without iptables: vrrp_iptables
    // is accepted with an error and mapped onto nftables (global_parser.c).
    kw('vrrp_iptables', () => {
      err("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option");
      g.vrrpIptablesRequested = true;
      g.nfTable = 'keepalived';
      g.nfPriority = -1;
    }),
    kw('nftables', (sv) => {
      if (g.nfTable) return err('nftables already specified - ignoring');
      let name = 'keepalived';
      if (sv!.size >= 2) {
        if (sv!.slot(1).length >= 256) return err('nftables table name too long - ignoring');
        name = sv!.slot(1);
      }
      g.nfTable = name;
      g.nfPriority = -1;
    }),
    kw('nftables_priority', (sv) => {
      const v = readInt(rep, sv!.slot(1), -2147483648, 2147483647);
      if (v === null) return rep.error(ConfErr.INVALID_NUMBER, `invalid nftables chain priority '${sv!.slot(1)}'`);
      g.nfPriority = v;
    }),
    kw('nftables_ifindex', () => (g.nfIfindex = true)),
    kw('nftables_ipvs', (sv) => {
      if (g.nfIpvsTable) return err('ipvs nftables already specified - ignoring');
      let name = 'keepalived_ipvs';
      if (sv!.size >= 2) {
        if (sv!.slot(1).length >= 256) return err('ipvs nftables table name too long - ignoring');
        name = sv!.slot(1);
      }
      g.nfIpvsTable = name;
      g.nfIpvsPriority = -1;
      g.nfIpvsStartFwmark = 1000;
    }),
    kw('nftables_ipvs_priority', (sv) => {
      const v = readInt(rep, sv!.slot(1), -2147483648, 2147483647);
      if (v === null) return rep.error(ConfErr.INVALID_NUMBER, `invalid ipvs nftables chain priority '${sv!.slot(1)}'`);
      g.nfIpvsPriority = v;
    }),
    kw('nftables_ipvs_start_fwmark', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 1, UINT_MAX);
      if (v === null) return rep.error(ConfErr.INVALID_NUMBER, `invalid ipvs nftables start_fwmark priority '${sv!.slot(1)}'`);
      g.nfIpvsStartFwmark = v;
    }),
    kw('nftables_counters', () => (g.nftablesCounters = true)),
    kw('vrrp_check_unicast_src', () => (g.vrrpCheckUnicastSrc = true)),
    kw('vrrp_skip_check_adv_addr', () => (g.vrrpSkipCheckAdvAddr = true)),
    kw('vrrp_strict', () => (g.vrrpStrict = true)),
    kw('vrrp_priority', (sv) => prio(sv!, 'vrrp')),
    kw('vrrp_no_swap', () => (g.processTune.vrrp.noSwap = true)),
    kw('vrrp_rt_priority', (sv) => rtPriority(sv!, 'vrrp')),
    kw('vrrp_cpu_affinity', (sv) => cpuAffinity(sv!, 'vrrp')),
    kw('vrrp_rlimit_rttime', (sv) => rtRlimit(sv!, 'vrrp')),
    kw('vrrp_rlimit_rtime', (sv) => rtRlimit(sv!, 'vrrp')),
    kw('notify_fifo', (sv) => fifo(sv!, '', g.notifyFifo)),
    kw('notify_fifo_script', (sv) => fifoScript(sv!, '', g.notifyFifo)),
    kw('vrrp_notify_fifo', (sv) => fifo(sv!, 'vrrp_', g.vrrpNotifyFifo)),
    kw('vrrp_notify_fifo_script', (sv) => fifoScript(sv!, 'vrrp_', g.vrrpNotifyFifo)),
    kw('vrrp_notify_priority_changes', (sv) => bool(sv!, 'vrrp_notify_priority_changes', (v) => (g.vrrpNotifyPriorityChanges = v))),
    kw('fifo_write_vrrp_states_on_reload', () => (g.fifoWriteVrrpStatesOnReload = true)),
    kw('lvs_notify_fifo', (sv) => fifo(sv!, 'lvs_', g.lvsNotifyFifo)),
    kw('lvs_notify_fifo_script', (sv) => fifoScript(sv!, 'lvs_', g.lvsNotifyFifo)),
    kw('checker_priority', (sv) => prio(sv!, 'checker')),
    kw('checker_no_swap', () => (g.processTune.checker.noSwap = true)),
    kw('checker_rt_priority', (sv) => rtPriority(sv!, 'checker')),
    kw('checker_cpu_affinity', (sv) => cpuAffinity(sv!, 'checker')),
    kw('checker_rlimit_rttime', (sv) => rtRlimit(sv!, 'checker')),
    kw('checker_rlimit_rtime', (sv) => rtRlimit(sv!, 'checker')),
    kw('bfd_priority', (sv) => prio(sv!, 'bfd')),
    kw('bfd_no_swap', () => (g.processTune.bfd.noSwap = true)),
    kw('bfd_rt_priority', (sv) => rtPriority(sv!, 'bfd')),
    kw('bfd_cpu_affinity', (sv) => cpuAffinity(sv!, 'bfd')),
    kw('bfd_rlimit_rttime', (sv) => rtRlimit(sv!, 'bfd')),
    kw('bfd_rlimit_rtime', (sv) => rtRlimit(sv!, 'bfd')),
    kw('snmp_socket', (sv) => {
      const s = sv!;
      if (s.size > 2) return err('Too many parameters specified for snmp_socket - ignoring');
      if (s.size < 2) return err('SNMP error : snmp socket name missing');
      if (s.slot(1).length > 4095) return err('SNMP error : snmp socket name too long - ignored');
      if (g.snmpSocket) return err(`SNMP socket already set to ${g.snmpSocket} - ignoring`);
      g.snmpSocket = s.slot(1);
    }),
    kw('enable_traps', () => (g.enableTraps = true)),
    kw('enable_snmp_vrrp', () => (g.enableSnmpVrrp = true)),
    kw('enable_snmp_keepalived', () => (g.enableSnmpVrrp = true)),
    kw('enable_snmp_rfc', () => {
      g.enableSnmpRfcv2 = true;
      g.enableSnmpRfcv3 = true;
    }),
    kw('enable_snmp_rfcv2', () => (g.enableSnmpRfcv2 = true)),
    kw('enable_snmp_rfcv3', () => (g.enableSnmpRfcv3 = true)),
    kw('enable_snmp_checker', () => (g.enableSnmpChecker = true)),
    kw('enable_dbus', () => (g.enableDbus = true)),
    kw('dbus_service_name', (sv) => {
      if (sv!.size < 2) return err('dbus_service_name missing - ignoring');
      g.dbusServiceName = sv!.slot(1);
    }),
    kw('script_user', (sv) => {
      if (sv!.size < 2) return err('No script username specified');
      g.scriptUser = { user: sv!.slot(1), group: sv!.raw(2) };
      if (ctx.users.setDefault(sv!.slot(1), sv!.raw(2))) err('Error setting global script uid/gid');
    }),
    kw('enable_script_security', () => {
      g.enableScriptSecurity = true;
      ctx.users.scriptSecurity = true;
    }),
    kw('vrrp_netlink_cmd_rcv_bufs', (sv) => rcvBufs(sv, 'vrrpCmd', 'vrrp_netlink_cmd')),
    kw('vrrp_netlink_cmd_rcv_bufs_force', (sv) => rcvBufsForce(sv, 'vrrpCmd', 'vrrp_netlink_cmd_rcv_bufs_force')),
    kw('vrrp_netlink_monitor_rcv_bufs', (sv) => rcvBufs(sv, 'vrrpMonitor', 'vrrp_netlink_monitor')),
    kw('vrrp_netlink_monitor_rcv_bufs_force', (sv) => rcvBufsForce(sv, 'vrrpMonitor', 'vrrp_netlink_monitor_rcv_bufs_force')),
    kw('process_monitor_rcv_bufs', (sv) => rcvBufs(sv, 'processMonitor', 'process_monitor')),
    kw('process_monitor_rcv_bufs_force', (sv) => rcvBufsForce(sv, 'processMonitor', 'process_monitor_rcv_bufs_force')),
    kw('lvs_netlink_cmd_rcv_bufs', (sv) => rcvBufs(sv, 'lvsCmd', 'lvs_netlink_cmd')),
    kw('lvs_netlink_cmd_rcv_bufs_force', (sv) => rcvBufsForce(sv, 'lvsCmd', 'lvs_netlink_cmd_rcv_bufs_force')),
    kw('lvs_netlink_monitor_rcv_bufs', (sv) => rcvBufs(sv, 'lvsMonitor', 'lvs_netlink_monitor')),
    kw('lvs_netlink_monitor_rcv_bufs_force', (sv) => rcvBufsForce(sv, 'lvsMonitor', 'lvs_netlink_monitor_rcv_bufs_force')),
    kw('rs_init_notifies', (sv) => bool(sv!, 'rs_init_notifies', (v) => (g.rsInitNotifies = v))),
    kw('no_checker_emails', (sv) => bool(sv!, 'no_checker_emails', (v) => (g.noCheckerEmails = v))),
    kw('vrrp_rx_bufs_policy', (sv) => {
      if (!sv) return;
      if (sv.size < 2) return err('vrrp_rx_bufs_policy missing');
      let mtu = false;
      let advert = false;
      let size: number | undefined;
      for (let i = 1; i < sv.size; i++) {
        const w = sv.slot(i).toUpperCase();
        if (w === 'MTU') mtu = true;
        else if (w === 'ADVERT') advert = true;
        else {
          // keepalived reads word 1 here whatever i is (global_parser.c)
          const v = readUnsigned(rep, sv.slot(1), 0, UINT_MAX);
          if (v === null) err(`Invalid vrrp_rx_bufs_policy ${sv.slot(i)}`);
          else size = v;
        }
      }
      if (size !== undefined && (mtu || advert)) {
        err('Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy');
        g.vrrpRxBufsPolicy = { size };
      } else if (mtu && advert) {
        err('Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT');
        g.vrrpRxBufsPolicy = 'MTU';
      } else if (size !== undefined) g.vrrpRxBufsPolicy = { size };
      else if (mtu) g.vrrpRxBufsPolicy = 'MTU';
      else if (advert) g.vrrpRxBufsPolicy = 'ADVERT';
    }),
    kw('vrrp_rx_bufs_multiplier', (sv) => {
      if (!sv) return;
      if (sv.size !== 2) return err('Invalid vrrp_rx_bufs_multiplier');
      const v = readUnsigned(rep, sv.slot(1), 1, UINT_MAX);
      if (v === null) err(`Invalid vrrp_rx_bufs_multiplier ${sv.slot(1)}`);
      else g.vrrpRxBufsMultiplier = v;
    }),
    kw('vrrp_startup_delay', (sv) => {
      const v = readDecimal(rep, sv!.slot(1), 1000, UINT_MAX, 6);
      if (v === null) err(`vrrp_startup_delay '${sv!.slot(1)}' is invalid`);
      else g.vrrpStartupDelayUs = v;
      if ((g.vrrpStartupDelayUs ?? 0) >= 60 * TIMER_HZ) rep.log(`The vrrp_startup_delay is very large - ${sv!.slot(1)} seconds`);
    }),
    kw('log_unknown_vrids', () => (g.logUnknownVrids = true)),
    kw('vmac_prefix', (sv) => {
      if (g.vmacPrefix) return err(`vmac prefix has already been specified - ignoring ${sv!.slot(1)}`);
      g.vmacPrefix = sv!.slot(1);
    }),
    kw('vmac_addr_prefix', (sv) => {
      if (g.vmacAddrPrefix) return err(`vmac_addr prefix has already been specified - ignoring ${sv!.slot(1)}`);
      g.vmacAddrPrefix = sv!.slot(1);
    }),
    kw('umask', (sv) => umask(sv!)),
    kw('random_seed', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`random_seed ${sv!.slot(1)} invalid`);
      g.randomSeed = v;
    }),
    kw('reload_check_config', (sv) => {
      g.reloadCheckConfig = sv!.size >= 2 ? sv!.slot(1) : '/dev/null';
    }),
    kw('reload_time_file', (sv) => {
      if (sv!.size !== 2) return err('reload_time_file invalid');
      g.reloadTimeFile = sv!.slot(1);
    }),
    kw('reload_repeat', () => (g.reloadRepeat = true)),
    kw('reload_file', (sv) => {
      g.reloadFile = sv!.size >= 2 ? sv!.slot(1) : '/run/keepalived.reload';
    }),
    kw('include_check', (sv) => {
      g.includeCheck = sv!.t.slice(1);
    }),
    kw('config_save_dir', (sv) => {
      const dir = sv!.slot(1);
      const st = ctx.host.stat(dir);
      if (st?.isDir) g.configSaveDir = dir.replace(/\/$/, '');
      else if (st) err(`config_save_dir ${dir} exists and is not a directory`);
      else g.configSaveDir = dir.replace(/\/$/, ''); // keepalived's parent creates it
    }),
    kw('tmp_config_directory', (sv) => {
      if (g.tmpConfigDirectory) return err(`${sv!.slot(0)} already specified - ignoring`);
      if (sv!.size >= 2) g.tmpConfigDirectory = sv!.slot(1);
      else err(`${sv!.slot(0)} missing directory name`);
    }),
    kw('data_use_instance', (sv) => bool(sv!, 'date_use_instance', (v) => (g.dataUseInstance = v))),
  ];

  function lvsFlushOnStop(sv: StrVec): void {
    if (sv.size === 1) g.lvsFlushOnStop = 'full';
    else if (sv.slot(1) === 'VS') g.lvsFlushOnStop = 'vs';
    else err(`Unknown lvs_flush_on_stop type ${sv.slot(1)}`);
  }

  function garpExtraIf(sv: StrVec): void {
    const cmd = sv.slot(0);
    if (cmd === 'vrrp_vmac_garp_intvl') rep.error(ConfErr.DEPRECATED, `Keyword "vrrp_vmac_garp_intvl" is deprecated - please use "vrrp_garp_extra_if"`);
    let delay = 0;
    for (let i = 1; i < sv.size; i++) {
      if (sv.slot(i) === 'all') g.vrrpGarpExtraIfAll = true;
      else {
        const v = readUnsigned(rep, sv.slot(i), 1, 86400);
        if (v === null) return err(`${cmd} '${sv.slot(i)}' invalid - ignoring`);
        delay = v;
      }
    }
    if (!delay) return err(`${cmd} specified without time - ignoring`);
    g.vrrpGarpExtraIfS = delay;
  }

  function lvsSyncd(sv: StrVec): void {
    if (g.lvsSyncDaemon) return err(`lvs_sync_daemon has already been specified as ${g.lvsSyncDaemon.interface} ${g.lvsSyncDaemon.vrrpInstance ?? ''} - ignoring`);
    if (sv.size < 2) return err('lvs_sync_daemon requires interface');
    if (sv.slot(1).length >= 16) return err(`lvs_sync_daemon interface name '${sv.slot(1)}' too long - ignoring`);
    const d: LvsSyncDaemon = { interface: sv.slot(1) };
    g.lvsSyncDaemon = d;
    for (let i = 2; i < sv.size; i++) {
      const o = sv.slot(i);
      if (o === 'inst') {
        if (d.vrrpInstance) err(`lvs_sync_daemon vrrp instance has already been specified as ${d.vrrpInstance} - ignoring`);
        else d.vrrpInstance = sv.slot(i + 1);
        i++;
        continue;
      }
      if (o === 'id' || o === 'maxlen' || o === 'port' || o === 'ttl' || o === 'group') {
        if (i === sv.size - 1) {
          err(o === 'id' ? 'No value specified for lvs_sync_daemon id, defaulting to vrid' : `No value specified for lvs_sync_daemon ${o} - ignoring`);
          continue;
        }
        const val = sv.slot(i + 1);
        if (o === 'id') {
          const v = readUnsigned(rep, val, 0, 255);
          if (v === null) err(`Invalid syncid (${val}) - defaulting to vrid`);
          else d.syncId = v;
        } else if (o === 'maxlen') {
          const v = readUnsigned(rep, val, 1, 65535 - 20 - 8);
          if (v === null) err(`Invalid lvs_sync_daemon maxlen (${val}) - ignoring`);
          else d.maxLen = v;
        } else if (o === 'port') {
          const v = readUnsigned(rep, val, 1, 65535);
          if (v === null) err(`Invalid lvs_sync_daemon port (${val}) - ignoring`);
          else d.port = v;
        } else if (o === 'ttl') {
          const v = readUnsigned(rep, val, 1, 255);
          if (v === null) err(`Invalid lvs_sync_daemon ttl (${val}) - ignoring`);
          else d.ttl = v;
        } else {
          const a = inetStosockaddr(rep, val, null);
          if (!a) err(`Invalid lvs_sync_daemon group (${val}) - ignoring`);
          if (a && !isMulticast(a.ip)) err(`lvs_sync_daemon group address ${val} is not multicast - ignoring`);
          else if (a) d.group = a.ip.text;
        }
        i++;
        continue;
      }
      // legacy form: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID]
      if (i === 2) {
        d.vrrpInstance = o;
        continue;
      }
      if (i === 3) {
        const v = readUnsigned(rep, o, 0, 255);
        if (v === null) err(`Invalid syncid (${o}) - defaulting to vrid`);
        else {
          err('Please use keyword "id" before lvs_sync_daemon SYNCID');
          d.syncId = v;
        }
        continue;
      }
      err(`Unknown option ${o} specified for lvs_sync_daemon`);
    }
  }

  function umask(sv: StrVec): void {
    const mask = sv.slot(1);
    let bits = 0;
    if (/^[0-9]/.test(mask)) {
      if (sv.size !== 2) return err(`${sv.size === 1 ? 'Missing' : 'Extra'} parameter(s) to umask option`);
      const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(mask);
      const v = m ? Number(mask.startsWith('0x') || mask.startsWith('0X') ? parseInt(mask, 16) : mask.length > 1 && mask[0] === '0' ? parseInt(mask, 8) : parseInt(mask, 10)) : NaN;
      if (!m || v < 0 || v & ~0o777) return err(`invalid umask value ${mask}`);
      bits = v;
    } else {
      const names: Record<string, number> = { IRUSR: 0o400, IWUSR: 0o200, IXUSR: 0o100, IRGRP: 0o40, IWGRP: 0o20, IXGRP: 0o10, IROTH: 0o4, IWOTH: 0o2, IXOTH: 0o1 };
      let needOr = false;
      for (let i = 1; i < sv.size; i++) {
        let p = sv.slot(i);
        while (p.length) {
          if (needOr) {
            if (p[0] === '|') {
              needOr = false;
              p = p.slice(1);
              continue;
            }
            return err(`Invalid umask syntax ${sv.slot(i)}`);
          }
          const b = names[p.slice(0, 5)];
          if (b === undefined) return err(`Unknown umask bit ${p}`);
          bits |= b;
          p = p.slice(5);
          needOr = true;
        }
      }
      if (!needOr) return err('umask missing bit value');
    }
    g.umask = bits;
  }

  return [
    root('linkbeat_use_polling', active, (sv) => {
      if (sv) g.linkbeatUsePolling = true;
    }),
    root('net_namespace', active, (sv) => {
      if (!sv) return;
      if (sv.size < 2) return err('net_namespace name missing - ignoring');
      if (!g.netNamespace) {
        g.netNamespace = sv.slot(1);
        g.usePidDir = true;
      } else err(`Duplicate net_namespace definition ${sv.slot(1)} - ignoring`);
    }),
    root('net_namespace_ipvs', active, (sv) => {
      if (!sv) return;
      if (g.netNamespaceIpvs !== undefined) return err(`Duplicate net_namespace_ipvs definition ${sv.slot(1)} - ignoring`);
      g.netNamespaceIpvs = sv.size < 2 ? '' : sv.slot(1);
    }),
    root('namespace_with_ipsets', active, (sv) => {
      if (sv) g.namespaceWithIpsets = true;
    }),
    root('use_pid_dir', active, (sv) => {
      if (sv) g.usePidDir = true;
    }),
    root('instance', active, (sv) => {
      if (!sv) return;
      if (sv.size < 2) return err('instance name missing - ignoring');
      if (!g.instance) {
        g.instance = sv.slot(1);
        g.usePidDir = true;
      } else err(`Duplicate instance definition ${sv.slot(1)} - ignoring`);
    }),
    root('child_wait_time', active, (sv) => {
      if (!sv) return;
      const v = readUnsigned(rep, sv.slot(1), 0, UINT_MAX);
      if (v === null) return err(`Invalid child_wait_time ${sv.slot(1)}`);
      g.childWaitTimeS = v;
    }),
    root('global_defs', active, undefined, subs),
  ];
}

export { parseIp };
