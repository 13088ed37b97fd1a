/**
 * The checks keepalived 2.2.7 makes after reading the VRRP configuration
 * (vrrp/vrrp.c vrrp_complete_init, chk_min_cfg, vrrp_complete_instance,
 * check_vrid_conflicts, sync_group_tracking_init; vrrp/vrrp_sync.c
 * vrrp_sync_set_group), in the same order, because an early failure
 * (`return false`) hides every later message and decides the verdict.
 */
import type { ScriptCommand } from '../model';
import { ConfErr } from './diag';
import { checkNotifyScriptSecure, checkScriptSecure, SC_EXECUTABLE, SC_INHIBIT, SC_ISSCRIPT, SC_INSECURE, SC_NOTFOUND, SC_SYSTEM } from './scripts';
import { ARPHRD_ETHER, IFF_MULTICAST } from './host';
import { ipEqual, isLinkLocal6, parseIp } from './inet';
import type { Ctx, SyncGroupDraft, VrrpDraft } from './ctx';

const TIMER_HZ = 1000000;
const TIMER_CENTI_HZ = 10000;

/** returns false when keepalived's VRRP process would stop */
export function vrrpCompleteInit(ctx: Ctx): boolean {
  const { rep, g, host } = ctx;
  const V = ctx.vrrp;
  const err = (m: string, at?: { file: string; line: number }): void => rep.error(ConfErr.GENERAL_ERROR, m, at);
  const refuse = (m: string, at?: { file: string; line: number }): false => {
    rep.refuse(ConfErr.GENERAL_ERROR, m, at);
    return false;
  };

  if (g.vrrpGarpLowerPrioRepeatUnset) g.vrrpGarpLowerPrioRepeat = g.vrrpGarpMasterRepeat ?? 5;
  if (g.vrrpGarpLowerPrioDelayUnset) g.vrrpGarpLowerPrioDelayS = g.vrrpGarpMasterDelayS ?? 5;

  // check_vrrp_script_security()
  if (V.instances.length) {
    const sec = ctx.users.scriptSecurity;
    let flags = 0;
    for (const s of V.scripts) {
      if (s.insecure || !s.script) continue;
      const f = checkScriptSecure(host, rep, s.script, sec);
      flags |= f;
      const at = { file: s.file, line: s.line };
      if (f & SC_INHIBIT) {
        err(`Disabling track script ${s.name} due to insecure`, at);
        s.insecure = true;
        s.script.disabled = 'insecure';
      } else if (f & SC_NOTFOUND) {
        err(`Disabling track script ${s.name} since not found/accessible`, at);
        s.insecure = true;
        s.script.disabled = 'not_found';
      } else if (!(f & (SC_EXECUTABLE | SC_SYSTEM))) {
        s.insecure = true;
        s.script.disabled = 'not_executable';
      }
    }
    const notifies = (n: Record<string, ScriptCommand | undefined>): void => {
      for (const k of ['backup', 'master', 'fault', 'stop', 'deleted', 'generic', 'masterRxLowerPri']) flags |= checkNotifyScriptSecure(host, rep, n[k], sec);
    };
    for (const vr of V.instances) {
      notifies(vr.notify as Record<string, ScriptCommand | undefined>);
      vr.trackScripts = vr.trackScripts.filter((t) => !t.scr.insecure);
    }
    for (const sg of V.syncGroups) {
      notifies(sg.notify as Record<string, ScriptCommand | undefined>);
      sg.trackScripts = sg.trackScripts.filter((t) => !t.scr.insecure);
    }
    flags |= checkNotifyScriptSecure(host, rep, g.notifyFifo.script, sec);
    flags |= checkNotifyScriptSecure(host, rep, g.vrrpNotifyFifo.script, sec);
    if (!sec && flags & SC_ISSCRIPT)
      rep.error(ConfErr.SECURITY_ERROR, `SECURITY VIOLATION - scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`, { file: V.instances[0].file, line: 0 });
    V.scripts = V.scripts.filter((s) => !s.insecure);
  }

  // chk_min_cfg(): VRRP_FLAG_UNICAST is only set later (in
  // vrrp_complete_instance), so 2.2.7 rejects any instance without a usable
  // interface here, unicast or not.
  for (const vr of V.instances) {
    const at = { file: vr.file, line: vr.line };
    if (vr.vrid === 0) return refuse(`(${vr.name}) the virtual router id must be set`, at);
    if (!vr.ifp) return refuse(`(${vr.name}) Unknown interface!`, at);
  }

  // sync groups
  for (const sg of [...V.syncGroups]) {
    const at = { file: sg.file, line: sg.line };
    if (!sg.iname) {
      err(`Sync group ${sg.name} has no virtual router(s). removing`, at);
      V.syncGroups.splice(V.syncGroups.indexOf(sg), 1);
      continue;
    }
    if (!syncSetGroup(ctx, sg)) V.syncGroups.splice(V.syncGroups.indexOf(sg), 1);
  }

  for (const vr of V.instances) if (!completeInstance(ctx, vr)) return false;

  if (checkVridConflicts(ctx)) return false;

  // static_track_group_init(): only log messages
  for (const tg of V.staticTrackGroups) {
    tg.instances = (tg.iname ?? []).filter((n) => {
      const ok = V.byName.has(n);
      if (!ok) rep.log(`vrrp instance ${n} specified in track group ${tg.name} doesn't exist - ignoring`, { file: tg.file, line: tg.line });
      return ok;
    });
  }

  syncGroupTrackingInit(ctx);
  return true;
}

function syncSetGroup(ctx: Ctx, sg: SyncGroupDraft): boolean {
  const { rep } = ctx;
  const at = { file: sg.file, line: sg.line };
  for (const n of sg.iname ?? []) {
    const vr = ctx.vrrp.byName.get(n);
    if (!vr) {
      rep.error(ConfErr.GENERAL_ERROR, `Virtual router ${n} specified in sync group ${sg.name} doesn't exist - ignoring`, at);
      continue;
    }
    if (vr.sync) {
      rep.error(ConfErr.GENERAL_ERROR, `Virtual router ${n} cannot exist in more than one sync group; ignoring ${sg.name}`, at);
      continue;
    }
    sg.members.push(vr);
    vr.sync = sg;
    if (sg.state === 'MASTER' && vr.wantstate === 'BACKUP')
      rep.error(ConfErr.GENERAL_ERROR, `Sync group ${sg.name} has some member(s) as address owner and some not as address owner. This won't work.`, at);
    if (sg.state !== 'BACKUP') sg.state = vr.wantstate === 'MASTER' && vr.basePriority === 255 ? 'MASTER' : 'BACKUP';
  }
  sg.iname = null;
  if (!sg.members.length) {
    rep.error(ConfErr.GENERAL_ERROR, `Sync group ${sg.name}, no matching virtual router found in group declaration - removing`, at);
    return false;
  }
  if (sg.members.length === 1) rep.error(ConfErr.GENERAL_ERROR, `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`, at);
  return true;
}

function completeInstance(ctx: Ctx, vr: VrrpDraft): boolean {
  const { rep, g } = ctx;
  const at = { file: vr.file, line: vr.line };
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m, at);
  const n = vr.name;
  const strict = vr.strictMode ?? g.vrrpStrict ?? false;
  vr.strictMode = strict;

  if (vr.family === 'inet6') {
    if (vr.version === 2 && strict) {
      err(`(${n}) cannot use IPv6 with VRRP version 2; setting version 3`);
      vr.version = 3;
    } else if (!vr.version) vr.version = 3;
  }
  if (!vr.family) vr.family = 'inet';
  if (!vr.version) vr.version = vr.family === 'inet6' ? 3 : (g.vrrpVersion ?? 2);
  if (vr.family === 'inet' && vr.ttl === -1) vr.ttl = 255;

  if (!vr.vips.length) {
    if (vr.version === 3 || strict) {
      rep.refuse(ConfErr.GENERAL_ERROR, `(${n}) No VIP specified; at least one is required`, at);
      return false;
    }
    err(`(${n}) No VIP specified; at least one is sensible`);
  }

  if (vr.basePriority === 0) vr.basePriority = vr.wantstate === 'MASTER' ? 255 : 100;
  if (vr.wantstate === 'INIT') vr.wantstate = vr.basePriority === 255 ? 'MASTER' : 'BACKUP';
  else if (strict && (vr.wantstate === 'MASTER') !== (vr.basePriority === 255)) {
    err(`(${n}) State MASTER must match being address owner`);
    vr.wantstate = vr.basePriority === 255 ? 'MASTER' : 'BACKUP';
  }

  if (vr.authType) {
    if (strict) {
      err(`(${n}) Strict mode does not support authentication. Ignoring.`);
      vr.authType = undefined;
    } else if (vr.version === 3) {
      err(`(${n}) VRRP version 3 does not support authentication. Ignoring.`);
      vr.authType = undefined;
    } else if (!vr.authPass) {
      err(`(${n}) Authentication specified but no password given. Ignoring`);
      vr.authType = undefined;
    } else if (vr.family === 'inet6' && vr.authType === 'AH') {
      err(`(${n}) Cannot use AH authentication with IPv6. ignoring`);
      vr.authType = undefined;
    } else if (vr.authType === 'AH' && vr.wantstate === 'MASTER' && vr.basePriority !== 255) {
      err(`(${n}) Initial state master is incompatible with AH authentication - clearing`);
      vr.wantstate = 'BACKUP';
    }
  }

  // keepalived 2.2.7 tests VRRP_FLAG_UNICAST here before setting it below, so
  // unicast peers in strict mode are accepted (verified with the binary).

  if (vr.unicastConfigured) {
    if (vr.unicastPeers.length) vr.unicast = true;
    else if (vr.unicastFaultNoPeers) {
      rep.log(`(${n}) Cannot use unicast without any peers - going to fault state`, at);
      vr.configFaults.push('unicast configured without peers');
    } else
      rep.error(
        ConfErr.DEPRECATED,
        `(${n}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`,
        at,
      );
  }

  if (strict && vr.vmacMacSpecified) {
    err(`(${n}): cannot specify MAC address with strict mode - clearing`);
    vr.vmacMacSpecified = false;
    vr.vmacMac = undefined;
  }

  const ifp = vr.ifp!;
  if ((vr.vmac || vr.ipvlan) && ifp.ifindex && ifp.hwType !== ARPHRD_ETHER) {
    // keepalived clears every flag of the instance here
    vr.vmac = vr.ipvlan = vr.vmacXmitBase = vr.vmacAddr = false;
    vr.unicast = false;
    vr.nopreempt = false;
    vr.promoteSecondaries = false;
    vr.dontTrackPrimary = false;
    vr.skipCheckAdvAddr = false;
    err(`(${n}): vmacs are only supported on Ethernet type interfaces`);
    vr.configFaults.push('vmac on a non-Ethernet interface');
  }

  if (ifp.ifindex && !(ifp.flags & IFF_MULTICAST) && !vr.unicast) {
    err(`(${n}) interface ${ifp.name} does not support multicast, specify unicast peers - disabling`);
    vr.configFaults.push('interface does not support multicast');
  }

  if (vr.family === 'inet6' && !vr.unicast && vr.vips.length) {
    const first = parseIp(vr.vips[0].address, 'inet6');
    if (first && !isLinkLocal6(first)) {
      if (strict) err(`(${n}) the first IPv6 VIP address must be link local`);
      else rep.log(`(${n}) the first IPv6 VIP address should be link local`, at);
    }
  }

  if (vr.vrfIfp) {
    err(`(${n}) vrf can only be specified without interface - clearing`);
    vr.vrfIfp = undefined;
  }

  // VIPs that don't fit in an advert move to eVIPs
  let maxAddr: number;
  if (vr.family === 'inet') {
    let hdr = 14 + 20 + 8;
    if (vr.version === 2) {
      hdr += 8;
      if (vr.authType === 'AH') hdr += 24;
    }
    maxAddr = Math.floor((ifp.mtu - hdr) / 4);
  } else maxAddr = Math.floor((ifp.mtu - (14 + 40 + 8)) / 16);
  if (maxAddr > 255) maxAddr = 255;
  if (vr.vips.length && vr.vips.length > maxAddr) {
    err(`(${n}) Number of VIPs (${vr.vips.length}) exceeds maximum/space available in packet (max ${maxAddr} addresses) - excess moved to eVIPs`);
    vr.evips.push(...vr.vips.splice(maxAddr));
  }

  if (vr.basePriority === 255 && vr.nopreempt) {
    err(`(${n}) nopreempt is incompatible with priority 255. resetting nopreempt`);
    vr.nopreempt = false;
  }
  if (vr.wantstate === 'MASTER') {
    if (vr.nopreempt) {
      err(`(${n}) Warning - nopreempt will not work with initial state MASTER - clearing`);
      vr.nopreempt = false;
    }
    if (vr.preemptDelayUs) {
      err(`(${n}) Warning - preempt delay will not work with initial state MASTER - clearing`);
      vr.preemptDelayUs = 0;
    }
  }
  if (vr.preemptDelayUs) {
    if (strict) {
      err(`(${n}) preempt_delay is incompatible with strict mode - resetting`);
      vr.preemptDelayUs = 0;
    }
    if (vr.nopreempt) {
      err(`(${n}) preempt_delay is incompatible with nopreempt mode - resetting`);
      vr.preemptDelayUs = 0;
    }
  }
  if (vr.downTimerAdverts !== 3 && strict) {
    err(`(${n}) down_timer_adverts is incompatible with strict mode - resetting`);
    vr.downTimerAdverts = 3;
  }

  if (vr.accept === undefined) vr.accept = vr.basePriority === 255 ? true : !strict;
  if (vr.accept && vr.basePriority !== 255 && strict && vr.version === 2) {
    err(`(${n}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`);
    vr.accept = false;
  }
  if ((!vr.accept || vr.vmac) && !g.nfTable) {
    rep.log('use_vmac or no_accept/strict specified, but no firewall configured - using nftables', at);
    g.nfTable = 'keepalived';
  }

  if (vr.unicast && vr.mcastDaddr) {
    err(`(${n}) multicast destination specified with unicast - ignoring`);
    vr.mcastDaddr = undefined;
  }

  if (vr.garpLowerPrioRep === undefined) vr.garpLowerPrioRep = strict ? 0 : g.vrrpGarpLowerPrioRepeat;
  else if (strict && vr.garpLowerPrioRep) {
    err(`(${n}) Strict mode requires no repeat garps. resetting`);
    vr.garpLowerPrioRep = 0;
  }
  if (vr.garpLowerPrioDelayS === undefined) vr.garpLowerPrioDelayS = strict ? 0 : g.vrrpGarpLowerPrioDelayS;
  else if (strict && vr.garpLowerPrioDelayS) {
    err(`(${n}) Strict mode requires no repeat garp delay. resetting`);
    vr.garpLowerPrioDelayS = 0;
  }
  if (vr.lowerPrioNoAdvert === undefined) vr.lowerPrioNoAdvert = strict ? true : (g.vrrpLowerPrioNoAdvert ?? false);
  else if (strict && !vr.lowerPrioNoAdvert) {
    err(`(${n}) Strict mode requires no lower priority advert. resetting`);
    vr.lowerPrioNoAdvert = true;
  }
  if (vr.higherPrioSendAdvert === undefined) vr.higherPrioSendAdvert = strict ? false : (g.vrrpHigherPrioSendAdvert ?? false);
  else if (strict && vr.higherPrioSendAdvert) {
    err(`(${n}) strict mode requires higher_prio_send_advert to be clear. resetting`);
    vr.higherPrioSendAdvert = false;
  }

  if (vr.smtpAlert === -1) vr.smtpAlert = g.smtpAlertVrrp !== undefined ? Number(g.smtpAlertVrrp) : g.smtpAlert !== undefined ? Number(g.smtpAlert) : 0;
  if (vr.notifyPriorityChanges === -1) {
    if (vr.sync && vr.sync.notifyPriorityChanges !== -1) vr.notifyPriorityChanges = vr.sync.notifyPriorityChanges;
    else vr.notifyPriorityChanges = g.vrrpNotifyPriorityChanges ? 1 : 0;
  }

  // advertisement interval (RFC 3768 §5.3.7 whole seconds, RFC 5798 §5.2.7 centiseconds)
  if (!vr.adverIntUs) vr.adverIntUs = TIMER_HZ;
  if (vr.version === 2) {
    if (vr.adverIntUs >= 256 * TIMER_HZ) {
      err(`(${n}) VRRPv2 advertisement interval ${(vr.adverIntUs / TIMER_HZ).toFixed(2)}s is out of range. Must be less than 256s. Setting to 255s`);
      vr.adverIntUs = 255 * TIMER_HZ;
    } else if (vr.adverIntUs % TIMER_HZ) {
      err(`(${n}) VRRPv2 advertisement interval ${(vr.adverIntUs / TIMER_HZ).toFixed(6)}s must be an integer. rounding`);
      vr.adverIntUs += TIMER_HZ / 2;
      vr.adverIntUs -= vr.adverIntUs % TIMER_HZ;
      if (vr.adverIntUs === 0) vr.adverIntUs = TIMER_HZ;
    }
  } else if (vr.adverIntUs >= 4096 * TIMER_CENTI_HZ) {
    err(`(${n}) VRRPv3 advertisement interval ${(vr.adverIntUs / TIMER_HZ).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`);
    vr.adverIntUs = 4095 * TIMER_CENTI_HZ;
  } else if (vr.adverIntUs % TIMER_CENTI_HZ) {
    err(`(${n}) VRRPv3 advertisement interval ${(vr.adverIntUs / TIMER_HZ).toFixed(6)}s must be in units of 10ms - rounding`);
    vr.adverIntUs += TIMER_CENTI_HZ / 2;
    vr.adverIntUs -= vr.adverIntUs % TIMER_CENTI_HZ;
    if (vr.adverIntUs === 0) vr.adverIntUs = TIMER_CENTI_HZ;
  }

  if (!vr.saddrFromConfig) vr.trackSaddr = false;

  if (vr.vmac || vr.ipvlan) {
    if (vr.vmac && strict && vr.vmacXmitBase) {
      err(`(${n}) xmit_base is incompatible with strict mode - resetting`);
      vr.vmacXmitBase = false;
    }
    if (vr.promoteSecondaries) {
      err(`(${n}) promote_secondaries is automatically set for vmacs - ignoring`);
      vr.promoteSecondaries = false;
    }
    if (!vr.vmacIfname) vr.vmacIfname = `${g.vmacPrefix ?? 'vrrp'}${vr.family === 'inet6' ? '6' : ''}.${vr.vrid}`;
  }
  if (vr.ipvlan) {
    if (vr.family === 'inet' && !vr.ipvlanAddr) {
      err(`(${n}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state`);
      vr.configFaults.push('ipvlan without address');
    } else if (vr.ipvlanAddr && vr.ipvlanAddr.family !== vr.family) {
      err(`(${n}) IPv4 ipvlan address family does not match instance. setting instance to fault state`);
      vr.configFaults.push('ipvlan address family');
    }
  }

  // track_interface naming our own interface
  vr.trackIfs = vr.trackIfs.filter((t) => {
    if (t.ifp === ifp.name) {
      err(`(${n}) Ignoring track_interface ${ifp.name} since own interface`);
      return false;
    }
    return true;
  });

  if (vr.vmacXmitBase && !vr.vmac) {
    err(`(${n}) vmac_xmit_base is only valid with a vmac`);
    vr.vmacXmitBase = false;
  }

  for (const list of [vr.vips, vr.evips]) {
    for (const a of list) {
      if (!a.useVmac) continue;
      a.useVmac = false;
      if ((!a.dev || a.dev === ifp.name) && vr.vmac && a.family === vr.family) {
        err(`(${n}) use_vmac specified for VIP/eVIP ${a.address} and vrrp instance`);
      } else if (((a.dev && a.dev !== ifp.name) || a.family !== vr.family) && vr.vmacAddr) {
        err(`(${n}) use_vmac_addr specified and use_vmac specified for VIP/eVIP ${a.address}`);
      } else a.useVmac = true;
    }
  }

  if (!vr.vips.length) {
    if (vr.version === 3 || vr.family === 'inet6' || strict) {
      rep.refuse(ConfErr.GENERAL_ERROR, `(${n}) No VIP specified; at least one is required`, at);
      return false;
    }
    rep.error(ConfErr.WARNING, `(${n}) No VIP specified; at least one is sensible`, at);
  }

  const owner = vr.basePriority === 255;
  const syncNoWeight = !!vr.sync && !vr.sync.trackingWeight;
  if (syncNoWeight || owner) {
    const why = syncNoWeight ? 'SYNC group' : 'address owner';
    vr.trackIfs = vr.trackIfs.filter((t) => {
      if (!t.weight) return true;
      err(`(${n}) ignoring ${t.ifp} tracked interface ${syncNoWeight ? 'weight ' : ''}due to ${why}`);
      if (syncNoWeight) {
        t.weight = 0;
        return true;
      }
      return false;
    });
    const why2 = syncNoWeight ? 'SYNC group' : 'address_owner';
    vr.trackScripts = vr.trackScripts.filter((t) => {
      if (!t.weight) return true;
      err(`(${n}) ignoring tracked script ${t.scr.name} with weights due to ${why2}`);
      return false;
    });
    vr.trackFiles = vr.trackFiles.filter((t) => {
      const tf = ctx.vrrp.trackFiles.find((f) => f.name === t.name);
      if (t.weight === 1) {
        err(`(${n}) ignoring weight from tracked file ${tf?.name ?? t.name} due to ${why2}. specify weight 0`);
        t.weight = 0;
        return true;
      }
      if (t.weight) {
        err(`(${n}) ignoring tracked file ${tf?.name ?? t.name} with weight ${t.weight} due to ${why2}`);
        return false;
      }
      return true;
    });
    vr.trackBfds = vr.trackBfds.filter((t) => {
      if (!t.weight) return true;
      err(`(${n}) ignoring tracked bfd ${t.name} with weight ${t.weight} due to ${why2}`);
      return false;
    });
  }
  return true;
}

/** check_vrid_conflicts(): true when an error was found */
function checkVridConflicts(ctx: Ctx): boolean {
  const { rep, g } = ctx;
  const list = ctx.vrrp.instances;
  let hadError = false;
  const addrOf = (v: VrrpDraft): string | undefined => {
    if (v.saddrFromConfig && v.saddr) return v.saddr.text;
    if (v.family === 'inet') return v.ifp?.ipv4;
    return v.ifp?.ipv6LinkLocal;
  };
  // only instances with the same family and VRID can conflict: compare within
  // those groups (keepalived compares every pair; same outcome, same order)
  const groups = new Map<string, VrrpDraft[]>();
  for (const v of list) {
    const k = `${v.family}/${v.vrid}`;
    const g0 = groups.get(k);
    if (g0) g0.push(v);
    else groups.set(k, [v]);
  }
  const pairs: [VrrpDraft, VrrpDraft][] = [];
  for (let i = 0; i < list.length; i++) {
    const same = groups.get(`${list[i].family}/${list[i].vrid}`)!;
    if (same.length < 2) continue;
    for (let j = same.indexOf(list[i]) + 1; j < same.length; j++) pairs.push([list[i], same[j]]);
  }
  for (const [a, b] of pairs) {
    {
      if (a.family !== b.family || a.vrid !== b.vrid) continue;
      if (a.unicast !== b.unicast) continue;
      if (a.unicast) {
        if (a.ifp && b.ifp && a.ifp.name !== b.ifp.name) continue;
        const sa = addrOf(a);
        const sb = addrOf(b);
        if (!sa || !sb) continue;
        const pa = parseIp(sa, a.family!);
        const pb = parseIp(sb, b.family!);
        if (pa && pb && !ipEqual(pa, pb)) continue;
        const overlap = a.unicastPeers.some((p) => b.unicastPeers.some((q) => ipEqual(p.ip, q.ip)));
        if (!overlap) continue;
        rep.refuse(ConfErr.GENERAL_ERROR, `(${a.name}) duplicate VRID conflict with ${b.name} VRID ${a.vrid}`, { file: b.file, line: b.line });
        hadError = true;
        continue;
      }
      if (a.ifp?.name !== b.ifp?.name) continue;
      const grp = (v: VrrpDraft): string => v.mcastDaddr?.text ?? (v.family === 'inet' ? (g.vrrpMcastGroup4 ?? '224.0.0.18') : (g.vrrpMcastGroup6 ?? 'ff02::12'));
      if (grp(a) !== grp(b)) continue;
      if (a.ifp?.ifindex) {
        rep.refuse(ConfErr.GENERAL_ERROR, `${a.name} and ${b.name} both use VRID ${a.vrid} with IPv${a.family === 'inet' ? 4 : 6} on interface ${a.ifp.name}`, { file: b.file, line: b.line });
        hadError = true;
      }
    }
  }
  return hadError;
}

function syncGroupTrackingInit(ctx: Ctx): void {
  const { rep, g } = ctx;
  for (const sg of ctx.vrrp.syncGroups) {
    if (!sg.members.length) continue;
    const at = { file: sg.file, line: sg.line };
    const owner = sg.members.some((v) => v.basePriority === 255);
    if (owner) {
      for (const t of sg.trackScripts)
        if (t.weight) {
          rep.error(ConfErr.GENERAL_ERROR, `(${sg.name}) Cannot have weighted track script '${t.scr.name}' with member having priority 255 - clearing weight`, at);
          t.weight = 0;
        }
      for (const t of sg.trackFiles)
        if (t.weight) {
          rep.error(ConfErr.GENERAL_ERROR, `(${sg.name}) Cannot have weighted track file '${t.name}' with member having priority 255 - setting weight 0`, at);
          t.weight = 0;
        }
      for (const t of sg.trackProcesses)
        if (t.weight) {
          rep.error(ConfErr.GENERAL_ERROR, `(${sg.name}) Cannot have weighted track process '${t.name}' with member having priority 255 - setting weight 0`, at);
          t.weight = 0;
        }
      for (const t of sg.trackBfds)
        if (t.weight) {
          rep.error(ConfErr.GENERAL_ERROR, `(${sg.name}) Cannot have weighted track bfd '${t.name}' with member having priority 255 - setting weight 0`, at);
          t.weight = 0;
        }
      for (const t of sg.trackIfs)
        if (t.weight) {
          rep.error(ConfErr.GENERAL_ERROR, `(${sg.name}) Cannot have weighted track interface '${t.ifp}' with member having priority 255 - clearing weight`, at);
          t.weight = 0;
        }
    }
    if (sg.smtpAlert === -1) sg.smtpAlert = g.smtpAlertVrrp !== undefined ? Number(g.smtpAlertVrrp) : g.smtpAlert !== undefined ? Number(g.smtpAlert) : 0;
  }
}
