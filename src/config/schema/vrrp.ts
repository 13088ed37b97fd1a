/**
 * The VRRP process's keywords (keepalived 2.2.7 vrrp/vrrp_parser.c
 * init_vrrp_keywords): track_group, static_*, vrrp_sync_group, garp_group,
 * linkbeat_interfaces, vrrp_instance, vrrp_script, vrrp_track_process,
 * interface_up_down_delays — with the defaults of vrrp/vrrp_data.c alloc_vrrp.
 * References (track_script, track_file, track_process, track_bfd) are looked
 * up when the keyword is read, so, as in keepalived, an object must be
 * defined BEFORE the instance that tracks it.
 */
import { ConfErr } from './diag';
import { kw, root, type Kw, type StrVec } from './engine';
import { checkTrueFalse, readDecimal, readInt, readTimerUs, readUnsigned, UINT_MAX } from './cnum';
import { inetStosockaddr, isLinkLocal6, isMcLinkLocal6, isMulticast, parseIpaddress, type IpAddr } from './inet';
import { notifyScriptInit, splitQuotedEscaped } from './scripts';
import { allocIpaddress, allocRoute, allocRule } from './ipaddr';
import { allocTrackFileRef } from './trackfile';
import { ARPHRD_LOOPBACK, type HostInterface } from './host';
import { ifGetDynamic, ifGet, orphanOf, rawLine, type Ctx, type SyncGroupDraft, type TrackRefDraft, type VrrpDraft, type VrrpScriptDraft, type TrackProcessDraft } from './ctx';

const TIMER_HZ = 1000000;
const TIMER_MAX_SEC = 1000;

export function vrrpKeywords(ctx: Ctx, active: boolean): Kw[] {
  const { rep, g } = ctx;
  const V = ctx.vrrp;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  // A refused vrrp_instance / vrrp_sync_group without '{' leaves its lines to
  // be read with no current object (see Ctx.orphan). vrrp_script and
  // vrrp_track_process always create theirs.
  let orphanVrrp: VrrpDraft | undefined;
  let orphanSg: SyncGroupDraft | undefined;
  const lastVrrp = (): VrrpDraft => V.instances[V.instances.length - 1] ?? (orphanVrrp ??= orphanOf(ctx, 'vrrp_instance', newInstance('')));
  const lastSg = (): SyncGroupDraft => V.syncGroups[V.syncGroups.length - 1] ?? (orphanSg ??= orphanOf(ctx, 'vrrp_sync_group', newSyncGroup('')));
  const lastScript = (): VrrpScriptDraft => V.scripts[V.scripts.length - 1];
  const lastProc = (): TrackProcessDraft => V.trackProcesses[V.trackProcesses.length - 1];
  const newSyncGroup = (name: string): SyncGroupDraft => ({
    name,
    file: rep.pos.file,
    line: rep.pos.line,
    iname: null,
    members: [],
    trackIfs: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    trackBfds: [],
    notify: {},
    smtpAlert: -1,
    trackingWeight: false,
    notifyPriorityChanges: -1,
    state: 'INIT',
  });

  // ------------------------------------------------------------ track refs
  /** alloc_track_if() */
  const trackIf = (owner: string, list: VrrpDraft['trackIfs'], sv: StrVec): void => {
    const name = sv.slot(0);
    if (!ifGetDynamic(ctx, name)) return err(`(${owner}) tracked interface ${name} doesn't exist`);
    if (list.some((t) => t.ifp === name)) return err(`(${owner}) duplicate track_interface ${name} - ignoring`);
    let weight = 0;
    let reverse = false;
    if (sv.size >= 2) {
      if (sv.slot(1) !== 'weight') return err(`(${owner}) unknown track_interface ${name} option ${sv.slot(1)} - ignoring`);
      if (sv.size === 2) return err(`(${owner}) weight without value specified for track_interface ${name} - ignoring`);
      const w = readInt(rep, sv.slot(2), -254, 254);
      if (w === null) {
        err(`(${owner}) weight ${sv.slot(2)} for ${name} must be between [-253..253] inclusive. Ignoring...`);
        weight = 0;
      } else if (w === -254 || w === 254) {
        err(`(${owner}) weight for ${name} cannot be +/-254. Setting to +/-253`);
        weight = w < 0 ? -253 : 253;
      } else weight = w;
      if (sv.size >= 4) {
        if (sv.slot(3) === 'reverse') reverse = true;
        else err(`(${owner}) unknown track_interace ${name} weight option ${sv.slot(3)} - ignoring`);
      }
    }
    list.push({ ifp: name, weight, reverse });
  };

  /** alloc_track_script() */
  const trackScript = (owner: string, list: VrrpDraft['trackScripts'], sv: StrVec): void => {
    const name = sv.slot(0);
    const scr = V.scripts.find((s) => s.name === name);
    if (!scr) return err(`(${owner}) track script ${name} not found, ignoring...`);
    if (list.some((t) => t.scr === scr)) return err(`(${owner}) duplicate track_script ${name} - ignoring`);
    let weight = scr.weight;
    let reverse = scr.weightReverse;
    if (sv.size >= 2) {
      if (sv.slot(1) !== 'weight') return err(`(${owner}) unknown track script option ${sv.slot(1)} - ignoring`);
      if (sv.size === 2) return err(`(${owner}) weight without value specified for track script ${name} - ignoring`);
      const w = readInt(rep, sv.slot(2), -254, 254);
      if (w === null) {
        weight = scr.weight;
        err(`(${owner}) track script ${name}: weight must be between [-253..253] inclusive, ignoring...`);
      } else if (w === -254 || w === 254) {
        err(`(${owner}) weight for ${name} cannot be +/-254. Setting to +/-253`);
        weight = w < 0 ? -253 : 253;
      } else weight = w;
      if (sv.size >= 4) {
        if (sv.slot(3) === 'reverse') reverse = true;
        else if (sv.slot(3) === 'noreverse') reverse = false;
        else err(`(${owner}) unknown track_script ${name} weight option ${sv.slot(3)} - ignoring`);
      }
    }
    list.push({ scr, weight, reverse });
  };

  /** alloc_track_process() */
  const trackProcess = (owner: string, list: TrackRefDraft[], sv: StrVec): void => {
    const name = sv.slot(0);
    const p = V.trackProcesses.find((x) => x.name === name);
    if (!p) return err(`(${owner}) track process ${name} not found, ignoring...`);
    if (list.some((t) => t.name === name)) return err(`(${owner}) duplicate track_process ${name} - ignoring`);
    let weight = p.weight;
    let reverse = p.weightReverse;
    if (sv.size >= 2) {
      if (sv.slot(1) !== 'weight') return err(`(${owner}) unknown track process option ${sv.slot(1)} - ignoring`);
      if (sv.size === 2) return err(`(${owner}) weight without value specified for track process ${name} - ignoring`);
      const w = readInt(rep, sv.slot(2), -254, 254);
      if (w === null) err(`(${owner}) weight for track process ${name} must be in [-254..254] inclusive. Ignoring...`);
      else weight = w;
      if (sv.size >= 4) {
        if (sv.slot(3) === 'reverse') reverse = true;
        else if (sv.slot(3) === 'noreverse') reverse = false;
        else err(`(${owner}) unknown track_process ${name} weight option ${sv.slot(3)} - ignoring`);
      }
    }
    list.push({ name, weight, reverse });
  };

  /** alloc_track_bfd() */
  const trackBfd = (owner: string, list: TrackRefDraft[], sv: StrVec): void => {
    const name = sv.slot(0);
    const b = V.trackBfds.find((x) => x.name === name);
    if (!b) return err(`(${owner}) track bfd ${name} not found, ignoring...`);
    if (list.some((t) => t.name === name)) return err(`(${owner}) duplicate track_bfd ${name} - ignoring`);
    let weight = b.weight;
    let reverse = b.reverse;
    if (sv.size >= 2) {
      if (sv.slot(1) !== 'weight') return err(`(${owner}) unknown track bfd ${name} option ${sv.slot(1)} - ignoring`);
      if (sv.size === 2) return err(`(${owner}) weight without value specified for track bfd ${name} - ignoring`);
      const w = readInt(rep, sv.slot(2), -253, 253);
      if (w === null) err(`(${owner}) weight for track bfd ${name} must be in [-253..253] inclusive. Ignoring...`);
      else weight = w;
      if (sv.size >= 4) {
        if (sv.slot(3) === 'reverse') reverse = true;
        else if (sv.slot(3) === 'noreverse') reverse = false;
        else return err(`(${owner}) unknown track bfd ${name} weight option ${sv.slot(3)} - ignoring`);
      }
    }
    list.push({ name, weight, reverse });
  };

  const boolOpt = (sv: StrVec, onErr: (v: string) => string, set: (v: boolean) => void): void => {
    if (sv.size >= 2) {
      const r = checkTrueFalse(sv.slot(1));
      if (r < 0) return err(onErr(sv.slot(1)));
      set(r === 1);
    } else set(true);
  };

  // ------------------------------------------------------------ track_group
  const trackGroupKw = root(
    'track_group',
    active,
    (sv) => {
      if (!sv) return;
      if (sv.size !== 2) {
        err('track_group must have a name - skipping');
        ctx.d.skipBlock(true);
        return;
      }
      const name = sv.slot(1);
      if (V.staticTrackGroups.some((t) => t.name === name)) {
        err(`track_group ${name} already defined`);
        ctx.d.skipBlock(true);
        return;
      }
      V.staticTrackGroups.push({ name, instances: [], iname: null, file: rep.pos.file, line: rep.pos.line });
    },
    [
      kw('group', (sv) => {
        const tg = V.staticTrackGroups[V.staticTrackGroups.length - 1];
        if (tg.iname) {
          err(`Group list already specified for sync group ${tg.name}`);
          ctx.d.skipBlock(true);
          return;
        }
        tg.iname = ctx.d.readValueBlock(sv!);
        if (!tg.iname) err(`Warning - track group ${tg.name} has empty group block`);
      }),
    ],
  );

  // ------------------------------------------------------------ static
  const staticBlock = (name: string, fn: (sv: StrVec) => void): Kw =>
    root(name, active, (sv) => {
      ctx.haveVrrpConfig = true;
      if (!sv) return;
      ctx.d.allocValueBlock(sv, fn);
    });

  // ------------------------------------------------------------ sync group
  const sgNotify = (key: keyof SyncGroupDraft['notify'], label: string, extra: number) => (sv: StrVec | null): void => {
    const sg = lastSg();
    if (sg.notify[key]) return err(`vrrp group ${sg.name}: ${label} script already specified - ignoring ${sv!.slot(1)}`);
    void extra;
    sg.notify[key] = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv!), 'notify') ?? undefined;
  };
  const syncGroupKw = root(
    'vrrp_sync_group',
    active,
    (sv) => {
      if (!sv) return;
      if (sv.size !== 2) {
        err('vrrp_sync_group must have a name - skipping');
        ctx.d.skipBlock(true);
        return;
      }
      const name = sv.slot(1);
      if (V.syncGroups.some((s) => s.name === name)) {
        err(`vrrp sync group ${name} already defined`);
        ctx.d.skipBlock(true);
        return;
      }
      V.syncGroups.push(newSyncGroup(name));
    },
    [
      kw('group', (sv) => {
        const sg = lastSg();
        if (sg.iname) {
          err(`Group list already specified for sync group ${sg.name}`);
          ctx.d.skipBlock(true);
          return;
        }
        sg.iname = ctx.d.readValueBlock(sv!);
        if (!sg.iname) err(`Warning - sync group ${sg.name} has empty group block`);
      }),
      kw('track_interface', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackIf(lastSg().name, lastSg().trackIfs, v))),
      kw('track_script', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackScript(lastSg().name, lastSg().trackScripts, v))),
      kw('track_file', (sv) => ctx.d.allocValueBlock(sv!, (v) => allocTrackFileRef(ctx, lastSg().name, V.trackFiles, lastSg().trackFiles, v))),
      kw('track_process', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackProcess(lastSg().name, lastSg().trackProcesses, v))),
      kw('track_bfd', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackBfd(lastSg().name, lastSg().trackBfds, v))),
      kw('notify_backup', sgNotify('backup', 'notify_backup', 0)),
      kw('notify_master', sgNotify('master', 'notify_master', 0)),
      kw('notify_fault', sgNotify('fault', 'notify_fault', 0)),
      kw('notify_stop', sgNotify('stop', 'notify_stop', 0)),
      kw('notify', sgNotify('generic', 'notify', 4)),
      kw('smtp_alert', (sv) => {
        let res = 1;
        if (sv!.size >= 2) {
          res = checkTrueFalse(sv!.slot(1));
          if (res === -1) return err(`Invalid vrrp_group smtp_alert parameter ${sv!.slot(1)}`);
        }
        lastSg().smtpAlert = res;
      }),
      kw('global_tracking', () => {
        err(`(${lastSg().name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`);
        lastSg().trackingWeight = true;
      }),
      kw('sync_group_tracking_weight', () => (lastSg().trackingWeight = true)),
      kw('notify_priority_changes', (sv) => {
        let res = 1;
        if (sv!.size >= 2) {
          res = checkTrueFalse(sv!.slot(1));
          if (res < 0) return err(`(${lastSg().name}) Invalid value '${sv!.slot(1)}' for sync group notify_priority_changes specified`);
        }
        lastSg().notifyPriorityChanges = res;
      }),
    ],
  );

  // ------------------------------------------------------------ garp_group
  let garpCur: { g: (typeof V.garpGroups)[number]; haveGarp: boolean; haveGna: boolean } | null = null;
  const garpIfUsed = new Set<string>();
  const garpGroupKw = root(
    'garp_group',
    active,
    (sv) => {
      if (!sv) return;
      const gg = { interfaces: [] as string[], file: rep.pos.file, line: rep.pos.line };
      V.garpGroups.push(gg);
      garpCur = { g: gg, haveGarp: false, haveGna: false };
    },
    [
      kw('garp_interval', (sv) => {
        const v = readDecimal(rep, sv!.slot(1), 0, 2147483647, 6);
        if (v === null) return err(`garp_group garp_interval '${sv!.slot(1)}' invalid`);
        garpCur!.g.garpIntervalMs = v / 1000;
        garpCur!.haveGarp = true;
        if (v >= TIMER_HZ) rep.log(`The garp_interval is very large - ${sv!.slot(1)} seconds`);
      }),
      kw('gna_interval', (sv) => {
        const v = readDecimal(rep, sv!.slot(1), 0, 2147483647, 6);
        if (v === null) return err(`garp_group gna_interval '${sv!.slot(1)}' invalid`);
        garpCur!.g.gnaIntervalMs = v / 1000;
        garpCur!.haveGna = true;
        if (v >= TIMER_HZ) rep.log(`The gna_interval is very large - ${sv!.slot(1)} seconds`);
      }),
      kw('interface', (sv) => {
        const name = sv!.slot(1);
        const ifp = ifGetDynamic(ctx, name);
        if (!ifp) return err(`WARNING - interface ${name} specified for garp_group doesn't exist`);
        if (garpIfUsed.has(name)) return err(`garp_group already specified for ${name} - ignoring`);
        if (ifp.kind === 'macvlan' || ifp.kind === 'ipvlan') return err(`Cannot specify garp_delay on a vmac (${name}) - ignoring`);
        garpIfUsed.add(name);
        garpCur!.g.interfaces.push(name);
      }),
      kw('interfaces', (sv) => {
        const words = ctx.d.readValueBlock(sv!);
        if (!words) return err('Warning - empty garp_group interfaces block');
        for (const name of words) {
          const ifp = ifGetDynamic(ctx, name);
          if (!ifp) {
            if (g.dynamicInterfaces) rep.log(`WARNING - interface ${name} specified for garp_group doesn't exist`);
            else err(`WARNING - interface ${name} specified for garp_group doesn't exist`);
            continue;
          }
          if (garpIfUsed.has(name)) {
            err(`garp_group already specified for ${words[1]} - ignoring`);
            continue;
          }
          if (ifp.kind === 'macvlan' || ifp.kind === 'ipvlan') {
            err(`Cannot specify garp_delay on a vmac (${name}) - ignoring`);
            continue;
          }
          garpIfUsed.add(name);
          garpCur!.g.interfaces.push(name);
        }
      }),
    ],
    () => {
      const c = garpCur!;
      if (!c.haveGarp && !c.haveGna) {
        err(`garp group ${V.garpGroups.indexOf(c.g)} does not have any delay set - removing`);
        for (const n of c.g.interfaces) garpIfUsed.delete(n);
        V.garpGroups.splice(V.garpGroups.indexOf(c.g), 1);
      }
    },
  );

  // ------------------------------------------------------------ linkbeat
  const linkbeatKw = root('linkbeat_interfaces', active, (sv) => {
    if (!sv) return;
    ctx.d.allocValueBlock(sv, (v) => {
      const name = v.slot(0);
      const ifp = ctx.host.interfaces().get(name) ?? (g.dynamicInterfaces ? ({ name } as HostInterface) : undefined);
      if (!ifp) return rep.error(ConfErr.FATAL, `unknown interface ${name} specified for linkbeat interface`);
      if (ifp.kind === 'macvlan' || ifp.kind === 'ipvlan') return rep.log(`(${name}): linkbeat not supported for vmacs since netlink works`);
      let type: 'MII' | 'ETHTOOL' | 'IOCTL' | undefined;
      if (v.size > 1) {
        const t = v.slot(1);
        if (t === 'MII' || t === 'ETHTOOL' || t === 'IOCTL') type = t;
        if (!type || v.size > 2) err(`extra characters ${t} in linkbeat interface`);
      }
      V.linkbeat.push({ interface: name, type });
    });
  });

  // ------------------------------------------------------------ instance
  const newInstance = (name: string): VrrpDraft => ({
    name,
    file: rep.pos.file,
    line: rep.pos.line,
    wantstate: 'INIT',
    vrid: 0,
    basePriority: 0,
    adverIntUs: 0,
    version: 0,
    nopreempt: false,
    preemptDelayUs: 0,
    dontTrackPrimary: false,
    trackIfs: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    trackBfds: [],
    saddrFromConfig: false,
    trackSaddr: false,
    unicastConfigured: false,
    unicast: false,
    unicastFaultNoPeers: false,
    unicastPeers: [],
    ttl: -1,
    checkUnicastSrc: false,
    vmac: false,
    vmacMacSpecified: false,
    vmacMacUseVrid: false,
    vmacAddr: false,
    vmacXmitBase: false,
    ipvlan: false,
    ipvlanType: 'bridge',
    vips: [],
    evips: [],
    promoteSecondaries: false,
    vroutes: [],
    vrules: [],
    skipCheckAdvAddr: g.vrrpSkipCheckAdvAddr ?? false,
    notify: {},
    notifyDeleted: false,
    notifyPriorityChanges: -1,
    smtpAlert: -1,
    garpDelayS: g.vrrpGarpMasterDelayS ?? 5,
    garpRep: g.vrrpGarpMasterRepeat ?? 5,
    garpRefreshS: g.vrrpGarpMasterRefreshS ?? 0,
    garpRefreshRep: g.vrrpGarpMasterRefreshRepeat ?? 1,
    vmacGarpAllIf: false,
    downTimerAdverts: g.vrrpDownTimerAdverts ?? 3,
    linkbeatUsePolling: false,
    configFaults: [],
  });

  const setSrcIp = (sv: StrVec): void => {
    const vr = lastVrrp();
    const a = inetStosockaddr(rep, sv.slot(1), null);
    if (!a) return err(`Configuration error: VRRP instance[${vr.name}] malformed src address[${sv.slot(1)}]. Skipping...`);
    vr.saddr = a.ip;
    vr.saddrFromConfig = true;
    if (!vr.family) vr.family = a.ip.family;
    else if (a.ip.family !== vr.family) {
      err(`Configuration error: VRRP instance[${vr.name}] and src address[${sv.slot(1)}] MUST be of the same family !!! Skipping...`);
      vr.saddr = undefined;
      vr.saddrFromConfig = false;
    }
  };

  const instNotify = (key: keyof VrrpDraft['notify'], label: string) => (sv: StrVec | null): void => {
    const vr = lastVrrp();
    if (vr.notify[key]) return err(`(${vr.name}) ${label} script already specified - ignoring ${sv!.slot(1)}`);
    vr.notify[key] = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv!), 'notify') ?? undefined;
  };

  const uintOr = (sv: StrVec, min: number, max: number, msg: string, set: (v: number) => void): void => {
    const v = readUnsigned(rep, sv.slot(1), min, max);
    if (v === null) return err(msg.replace('%s', sv.slot(1)));
    set(v);
  };

  const vipAlloc = (excluded: boolean) => (v: StrVec): void => {
    const vr = lastVrrp();
    const a = allocIpaddress(ctx, v, false, V.staticTrackGroups);
    if (!a) return;
    if (excluded) {
      vr.evips.push(a);
      return;
    }
    if (!vr.family) vr.family = a.family;
    else if (a.family !== vr.family) return err(`(${vr.name}): address family must match VRRP instance [${v.slot(0)}] - ignoring`);
    vr.vips.push(a);
  };

  const instanceSubs: Kw[] = [
    kw('use_vmac', (sv) => {
      const vr = lastVrrp();
      vr.vmac = true;
      for (let i = 1; i < sv!.size && i <= 2; i++) {
        const p = sv!.slot(i);
        if (p.includes(':')) {
          if (vr.vmacMacSpecified) {
            err('VMAC interface address already specified');
            continue;
          }
          if (/[^0-9A-Fa-f:]/.test(p)) {
            err(`VMAC invalid MAC address ${p}`);
            continue;
          }
          const parts = p.split(':');
          let bad = false;
          let useVrid = false;
          const bytes: number[] = [];
          for (let j = 0; j < 6; j++) {
            const part = parts[j];
            if (part === undefined || part === '' || part.length > 2) {
              bad = true;
              break;
            }
            bytes.push(parseInt(part, 16));
            const rest = parts.slice(j + 1);
            if (j === 4 && (rest.length === 0 || (rest.length === 1 && rest[0] === ''))) {
              useVrid = true;
              break;
            }
            if (j < 5 && rest.length === 0) {
              bad = true;
              break;
            }
            if (j === 5 && rest.length > 0) bad = true;
          }
          if (bad) err(`VMAC invalid MAC address ${p} - ignored`);
          else if (bytes[0] & 1) err(`VMAC MAC address is multicast ${p} - ignoring`);
          else if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x5e && bytes[3] === 0 && (bytes[4] === 1 || bytes[4] === 2))
            err(`VMAC MAC address not allowed to be RFC5798 address (${p}) - ignoring`);
          else {
            vr.vmacMacSpecified = true;
            vr.vmacMacUseVrid = useVrid;
            vr.vmacMac = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
          }
        } else {
          if (vr.vmacIfname) {
            err('VMAC interface name already specified');
            continue;
          }
          if (p === '' || p.length >= 16 || p === '.' || p === '..' || /[/:\s]/.test(p)) {
            err(`VMAC interface name '${p}' too long or invalid characters - ignoring`);
            continue;
          }
          const other = V.instances.find((o) => o.vmacIfname === p);
          if (other) {
            err(`(${vr.name}) VRRP instance ${other.name} is already using ${p} - ignoring name`);
            continue;
          }
          vr.vmacIfname = p;
          const ex = ifGet(ctx, p);
          if (ex && ex.kind !== 'macvlan') {
            err(`(${vr.name}) interface ${p} already exists and is not a private macvlan; ignoring vmac if_name`);
            vr.vmacIfname = undefined;
          }
        }
      }
    }),
    kw('use_vmac_addr', () => (lastVrrp().vmacAddr = true)),
    kw('vmac_xmit_base', () => (lastVrrp().vmacXmitBase = true)),
    kw('use_ipvlan', (sv) => {
      const vr = lastVrrp();
      if (vr.ipvlan) return err(`(${vr.name}) use_ipvlan already specified`);
      vr.ipvlan = true;
      let hadFlags = false;
      for (let i = 1; i < sv!.size; i++) {
        const w = sv!.slot(i);
        if (w === 'bridge' || w === 'private' || w === 'vepa') {
          if (hadFlags) err(`(${vr.name}) ipvlan type already specified - ignoring '${w}'`);
          else {
            vr.ipvlanType = w;
            hadFlags = true;
          }
          continue;
        }
        const p = parseIpaddress(rep, w, true);
        if (p) {
          if (vr.ipvlanAddr) {
            err(`(${vr.name}) ipvlan address already specified - ignoring '${w}'`);
            continue;
          }
          if (!vr.family) vr.family = p.ip.family;
          else if (p.ip.family !== vr.family) {
            err(`(${vr.name}) ipvlan address[${w}] MUST match vrrp instance family !!! Skipping...`);
            continue;
          }
          vr.ipvlanAddr = p.ip;
          if (!vr.saddr) {
            vr.saddr = p.ip;
            vr.saddrFromConfig = true;
          }
          continue;
        }
        if (vr.vmacIfname) {
          err(`(${vr.name}) IPVLAN interface already specified - ignoring '${w}'`);
          continue;
        }
        if (w.length >= 16) {
          err(`(${vr.name}) IPVLAN interface name '${w}' too long - ignoring`);
          continue;
        }
        const other = V.instances.find((o) => o.vmacIfname === w);
        if (other) {
          err(`(${vr.name}) VRRP instance ${other.name} is already using ${w} - ignoring name`);
          continue;
        }
        vr.vmacIfname = w;
        const ex = ifGet(ctx, w);
        if (ex && ex.kind !== 'ipvlan') {
          err(`(${vr.name}) interface ${w} already exists and is not an l2 ipvlan; ignoring ipvlan if_name`);
          vr.vmacIfname = undefined;
        }
      }
    }),
    kw('unicast_peer', (sv) => {
      const vr = lastVrrp();
      vr.unicastConfigured = true;
      ctx.d.allocValueBlock(sv!, (v) => {
        const a = inetStosockaddr(rep, v.slot(0), null);
        if (!a) return err(`Configuration error: VRRP instance[${vr.name}] malformed unicast peer address[${v.slot(0)}]. Skipping...`);
        if (!vr.family) vr.family = a.ip.family;
        else if (a.ip.family !== vr.family)
          return err(`Configuration error: VRRP instance[${vr.name}] and unicast peer address[${v.slot(0)}] MUST be of the same family !!! Skipping...`);
        const peer = { ip: a.ip, minTtl: 0, maxTtl: 255 };
        for (let i = 1; i < v.size; i += 2) {
          if (i + 1 >= v.size) {
            err(`(${vr.name}) ${v.slot(i)} is missing a value`);
            break;
          }
          const ttl = readUnsigned(rep, v.slot(i + 1), 0, 255);
          if (ttl !== null) {
            if (v.slot(i) === 'min_ttl') peer.minTtl = ttl;
            else if (v.slot(i) === 'max_ttl') peer.maxTtl = ttl;
            else {
              err(`(${vr.name}) unknown unicast_peer option ${v.slot(i)}`);
              break;
            }
            vr.checkUnicastSrc = true;
          }
        }
        if (peer.minTtl > peer.maxTtl) err(`(${vr.name}) min_ttl ${peer.minTtl} > max_ttl ${peer.maxTtl} - all packets will be discarded`);
        vr.unicastPeers.push(peer);
      });
    }),
    kw('unicast_fault_no_peer', () => {
      lastVrrp().unicastConfigured = true;
      lastVrrp().unicastFaultNoPeers = true;
    }),
    kw('check_unicast_src', () => {
      lastVrrp().unicastConfigured = true;
      lastVrrp().checkUnicastSrc = true;
    }),
    kw('old_unicast_checksum', (sv) => {
      const vr = lastVrrp();
      vr.unicastConfigured = true;
      if (sv!.size >= 2) {
        if (sv!.slot(1) === 'never') vr.unicastChksumCompat = 'never';
        else err(`(${vr.name}) Unknown old_unicast_chksum mode ${sv!.slot(1)} - ignoring`);
      } else vr.unicastChksumCompat = 'auto';
    }),
    kw('native_ipv6', () => {
      const vr = lastVrrp();
      if (vr.family === 'inet') return err(`(${vr.name}) Cannot specify native_ipv6 with IPv4 addresses`);
      vr.family = 'inet6';
      vr.version = 3;
    }),
    kw('state', (sv) => {
      const vr = lastVrrp();
      const s = sv!.slot(1);
      if (s === 'MASTER') vr.wantstate = 'MASTER';
      else if (s === 'BACKUP') {
        if (vr.wantstate === 'MASTER') err(`(${vr.name}) state previously set as MASTER - ignoring BACKUP`);
        else vr.wantstate = 'BACKUP';
      } else {
        err(`(${vr.name}) unknown state '${s}', defaulting to BACKUP`);
        vr.wantstate = 'BACKUP';
      }
    }),
    kw('interface', (sv) => {
      const vr = lastVrrp();
      const name = sv!.slot(1);
      if (name.length >= 16) return err(`Interface name '${name}' too long - ignoring`);
      vr.ifname = name;
      vr.ifp = ifGetDynamic(ctx, name);
      if (!vr.ifp) err(`WARNING - interface ${name} for vrrp_instance ${vr.name} doesn't exist`);
      else if (vr.ifp.hwType === ARPHRD_LOOPBACK) {
        err(`(${vr.name}) cannot use a loopback interface (${name}) for vrrp - ignoring`);
        vr.ifp = undefined;
      }
    }),
    kw('vrf', (sv) => {
      const vr = lastVrrp();
      const name = sv!.slot(1);
      if (name.length >= 16) return err(`(${vr.name}) VRF interface name '${name}' too long - ignoring`);
      if (vr.ifp) return err(`(${vr.name}) Cannot specify VRF interface and interface - ignoring`);
      if (vr.vrfIfp) return err(`(${vr.name}) VRF interface already specified as '${vr.vrfIfp.name}' - ignoring`);
      vr.vrfIfp = ifGetDynamic(ctx, name);
      if (!vr.vrfIfp) err(`(${vr.name}) WARNING - VRF interface ${name} doesn't exist`);
      else if (vr.vrfIfp.hwType === ARPHRD_LOOPBACK) {
        err(`(${vr.name}) cannot use a loopback interface (${name}) for VRF - ignoring`);
        vr.vrfIfp = undefined;
      }
    }),
    kw('dont_track_primary', () => (lastVrrp().dontTrackPrimary = true)),
    kw('track_interface', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackIf(lastVrrp().name, lastVrrp().trackIfs, v))),
    kw('track_script', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackScript(lastVrrp().name, lastVrrp().trackScripts, v))),
    kw('track_file', (sv) => ctx.d.allocValueBlock(sv!, (v) => allocTrackFileRef(ctx, lastVrrp().name, V.trackFiles, lastVrrp().trackFiles, v))),
    kw('track_process', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackProcess(lastVrrp().name, lastVrrp().trackProcesses, v))),
    kw('track_bfd', (sv) => ctx.d.allocValueBlock(sv!, (v) => trackBfd(lastVrrp().name, lastVrrp().trackBfds, v))),
    kw('mcast_src_ip', (sv) => setSrcIp(sv!)),
    kw('unicast_src_ip', (sv) => {
      lastVrrp().unicastConfigured = true;
      setSrcIp(sv!);
    }),
    kw('mcast_dst_ip', (sv) => {
      const vr = lastVrrp();
      const a = inetStosockaddr(rep, sv!.slot(1), null);
      if (!a) return err(`(${vr.name}) malformed mcast dest address ${sv!.slot(1)}. Skipping...`);
      let ip: IpAddr | undefined = a.ip;
      if (!vr.family) vr.family = ip.family;
      else if (ip.family !== vr.family) {
        err(`(${vr.name}) mcast dest address ${sv!.slot(1)} MUST match VRRP instance family. Skipping...`);
        ip = undefined;
      }
      if (ip && ((ip.family === 'inet' && !isMulticast(ip)) || (ip.family === 'inet6' && !isMcLinkLocal6(ip)))) {
        err(`(${vr.name}) mcast_dst_ip ${sv!.slot(1)} not${ip.family === 'inet6' ? ' link-local' : ''} multicast. Skipping...`);
        ip = undefined;
      }
      vr.mcastDaddr = ip;
    }),
    kw('track_src_ip', () => (lastVrrp().trackSaddr = true)),
    kw('virtual_router_id', (sv) => {
      const vr = lastVrrp();
      const v = readUnsigned(rep, sv!.slot(1), 1, 255);
      if (v === null) return err(`(${vr.name}): VRID '${sv!.slot(1)}' not valid - must be between 1 & 255`);
      vr.vrid = v;
    }),
    kw('unicast_ttl', (sv) => {
      const vr = lastVrrp();
      const v = readUnsigned(rep, sv!.slot(1), 0, 255);
      if (v === null) return err(`(${vr.name}): TTL '${sv!.slot(1)}' not valid - must be between 0 & 255`);
      vr.ttl = v;
    }),
    kw('version', (sv) => {
      const vr = lastVrrp();
      const v = readInt(rep, sv!.slot(1), 2, 3);
      if (v === null) return err(`(${vr.name}): Version must be either 2 or 3`);
      if ((vr.version && vr.version !== v) || (v === 2 && vr.family === 'inet6'))
        return err(`(${vr.name}) vrrp_version ${v} conflicts with configured or deduced version ${vr.version}; ignoring.`);
      vr.version = v as 2 | 3;
    }),
    kw('priority', (sv) => {
      const vr = lastVrrp();
      const v = readUnsigned(rep, sv!.slot(1), 1, 255);
      if (v === null) {
        err(`(${vr.name}) Priority not valid! must be between 1 & 255. Using default 100`);
        vr.basePriority = 100;
      } else vr.basePriority = v;
    }),
    kw('advert_int', (sv) => {
      const vr = lastVrrp();
      const v = readDecimal(rep, sv!.slot(1), TIMER_HZ / 100, 255 * TIMER_HZ, 6);
      if (v === null || v <= 0) return err(`(${vr.name}) Advert interval (${sv!.slot(1)}) not valid! Must be > 0 - ignoring`);
      vr.adverIntUs = v;
    }),
    kw('virtual_ipaddress', (sv) => ctx.d.allocValueBlock(sv!, vipAlloc(false))),
    kw('virtual_ipaddress_excluded', (sv) => ctx.d.allocValueBlock(sv!, vipAlloc(true))),
    kw('promote_secondaries', () => (lastVrrp().promoteSecondaries = true)),
    kw('linkbeat_use_polling', () => {
      lastVrrp().linkbeatUsePolling = true;
      err(`(${lastVrrp().name}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block`);
    }),
    kw('virtual_routes', (sv) =>
      ctx.d.allocValueBlock(sv!, (v) => {
        const r = allocRoute(ctx, v, false, V.staticTrackGroups);
        if (r) lastVrrp().vroutes.push(r);
      }),
    ),
    kw('virtual_rules', (sv) =>
      ctx.d.allocValueBlock(sv!, (v) => {
        const r = allocRule(ctx, v, false, V.staticTrackGroups);
        if (r) lastVrrp().vrules.push(r);
      }),
    ),
    kw('accept', () => (lastVrrp().accept = true)),
    kw('no_accept', () => (lastVrrp().accept = false)),
    kw('skip_check_adv_addr', (sv) => {
      const vr = lastVrrp();
      if (sv!.size >= 2) {
        // keepalived 2.2.7 sets the flag for "true" AND "false" (vrrp_parser.c)
        if (checkTrueFalse(sv!.slot(1)) >= 0) vr.skipCheckAdvAddr = true;
        else err(`(${vr.name}) invalid skip_check_adv_addr ${sv!.slot(1)} specified`);
      } else vr.skipCheckAdvAddr = true;
    }),
    kw('strict_mode', (sv) => boolOpt(sv!, (v) => `(${lastVrrp().name}) invalid strict_mode ${v} specified`, (b) => (lastVrrp().strictMode = b))),
    kw('preempt', () => (lastVrrp().nopreempt = false)),
    kw('nopreempt', () => (lastVrrp().nopreempt = true)),
    kw('preempt_delay', (sv) => {
      const vr = lastVrrp();
      const v = readDecimal(rep, sv!.slot(1), 0, TIMER_MAX_SEC * TIMER_HZ, 6);
      if (v === null) {
        err(`(${vr.name}) Preempt_delay not valid! must be between 0-${TIMER_MAX_SEC}`);
        vr.preemptDelayUs = 0;
      } else vr.preemptDelayUs = v;
    }),
    kw('debug', (sv) => {
      const vr = lastVrrp();
      const v = readUnsigned(rep, sv!.slot(1), 0, 4);
      if (v === null) err(`(${vr.name}) Debug value '${sv!.slot(1)}' not valid; must be between 0-4`);
      else vr.debug = v;
    }),
    kw('notify_backup', instNotify('backup', 'notify_backup')),
    kw('notify_master', instNotify('master', 'notify_master')),
    kw('notify_fault', instNotify('fault', 'notify_fault')),
    kw('notify_stop', instNotify('stop', 'notify_stop')),
    kw('notify_deleted', (sv) => {
      const vr = lastVrrp();
      if (vr.notifyDeleted) return err(`(${vr.name}) notify_deleted already specified - ignoring ${sv!.size > 1 ? sv!.slot(1) : ''}`);
      if (sv!.size > 1) vr.notify.deleted = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv!), 'notify') ?? undefined;
      vr.notifyDeleted = true;
    }),
    kw('notify', instNotify('generic', 'notify')),
    kw('notify_master_rx_lower_pri', instNotify('masterRxLowerPri', 'notify_master_rx_lower_pri')),
    kw('smtp_alert', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid vrrp_instance smtp_alert parameter ${sv!.slot(1)}`);
      }
      lastVrrp().smtpAlert = res;
    }),
    kw('notify_priority_changes', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res < 0) return err(`(${lastVrrp().name}) Invalid value '${sv!.slot(1)}' for notify_priority_changes specified`);
      }
      lastVrrp().notifyPriorityChanges = res;
    }),
    kw('lvs_sync_daemon_interface', (sv) => {
      const vr = lastVrrp();
      err(`(${vr.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`);
      err(`      ${' '.repeat(Math.max(0, vr.name.length - 2))}Please use global lvs_sync_daemon`);
      if (g.lvsSyncDaemon) return err(`(${vr.name}) lvs_sync_daemon_interface has already been specified as ${g.lvsSyncDaemon.interface} - ignoring`);
      g.lvsSyncDaemon = { interface: sv!.slot(1), vrrpInstance: vr.name };
    }),
    kw('garp_master_delay', (sv) => uintOr(sv!, 0, Math.floor(UINT_MAX / TIMER_HZ), `(${lastVrrp().name}): garp_master_delay '%s' invalid - ignoring`, (v) => (lastVrrp().garpDelayS = v))),
    kw('garp_master_refresh', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) err(`(${lastVrrp().name}): Invalid garp_master_refresh '${sv!.slot(1)}' - ignoring`);
      lastVrrp().garpRefreshS = v ?? 0;
    }),
    kw('garp_master_repeat', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`(${lastVrrp().name}): garp_master_repeat '${sv!.slot(1)}' invalid - ignoring`);
      if (v === 0) {
        err(`(${lastVrrp().name}): garp_master_repeat must be greater than 0, setting to 1`);
        v = 1;
      }
      lastVrrp().garpRep = v;
    }),
    kw('garp_master_refresh_repeat', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`(${lastVrrp().name}): garp_master_refresh_repeat '${sv!.slot(1)}' invalid - ignoring`);
      if (v === 0) {
        err(`(${lastVrrp().name}): garp_master_refresh_repeat must be greater than 0, setting to 1`);
        v = 1;
      }
      lastVrrp().garpRefreshRep = v;
    }),
    kw('garp_lower_prio_delay', (sv) => uintOr(sv!, 0, Math.floor(UINT_MAX / TIMER_HZ), `(${lastVrrp().name}): garp_lower_prio_delay '%s' invalid - ignoring`, (v) => (lastVrrp().garpLowerPrioDelayS = v))),
    kw('garp_lower_prio_repeat', (sv) => uintOr(sv!, 0, 2147483647, `(${lastVrrp().name}): Invalid garp_lower_prio_repeat '%s'`, (v) => (lastVrrp().garpLowerPrioRep = v))),
    kw('down_timer_adverts', (sv) => uintOr(sv!, 1, 100, `(${lastVrrp().name}): Invalid down_timer_adverts [1:100] '%s'`, (v) => (lastVrrp().downTimerAdverts = v))),
    kw('garp_extra_if', (sv) => garpExtraIf(sv!)),
    kw('vmac_garp_intvl', (sv) => garpExtraIf(sv!)),
    kw('lower_prio_no_advert', (sv) => boolOpt(sv!, (v) => `(${lastVrrp().name}) invalid lower_prio_no_advert ${v} specified`, (b) => (lastVrrp().lowerPrioNoAdvert = b))),
    kw('higher_prio_send_advert', (sv) => boolOpt(sv!, (v) => `(${lastVrrp().name}) invalid higher_prio_send_advert ${v} specified`, (b) => (lastVrrp().higherPrioSendAdvert = b))),
    kw('kernel_rx_buf_size', (sv) => {
      if (sv!.size === 2) {
        const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
        if (v !== null) {
          lastVrrp().kernelRxBufSize = v;
          return;
        }
      }
      err(`(${lastVrrp().name}) invalid kernel_rx_buf_size specified`);
    }),
    kw('authentication', undefined, [
      kw('auth_type', (sv) => {
        const vr = lastVrrp();
        const s = sv!.slot(1);
        if (s === 'AH' || s === 'PASS') vr.authType = s;
        else err(`(${vr.name}) unknown authentication type '${s}'`);
      }),
      kw('auth_pass', (sv) => {
        let s = sv!.slot(1);
        // vrrp_t.auth_data is 8 bytes (RFC 3768 §5.3.7.2)
        if (Buffer.byteLength(s) > 8) {
          err('Truncating auth_pass to 8 characters');
          s = Buffer.from(s).subarray(0, 8).toString();
        }
        lastVrrp().authPass = s;
      }),
    ]),
  ];

  function garpExtraIf(sv: StrVec): void {
    const vr = lastVrrp();
    const cmd = sv.slot(0);
    if (cmd === 'vmac_garp_intvl') rep.error(ConfErr.DEPRECATED, `Keyword "vmac_garp_intvl" is deprecated - please use "garp_extra_if"`);
    let delay: number | null = null;
    for (let i = 1; i < sv.size; i++) {
      if (sv.slot(i) === 'all') vr.vmacGarpAllIf = true;
      else {
        const v = readUnsigned(rep, sv.slot(i), 0, 86400);
        if (v === null) return err(`(${vr.name}): ${cmd} '${sv.slot(i)}' invalid - ignoring`);
        delay = v;
      }
    }
    if (delay === null) return err(`(${vr.name}): ${cmd} specified without time - ignoring`);
    vr.vmacGarpIntvlS = delay;
  }

  const instanceKw = root(
    'vrrp_instance',
    active,
    (sv) => {
      ctx.haveVrrpConfig = true;
      if (!sv) return;
      if (sv.size !== 2) {
        err('vrrp_instance must have a name');
        ctx.d.skipBlock(true);
        return;
      }
      const name = sv.slot(1);
      if (V.byName.has(name)) {
        err(`vrrp instance ${name} already defined`);
        ctx.d.skipBlock(true);
        return;
      }
      const vr = newInstance(name);
      V.instances.push(vr);
      V.byName.set(name, vr);
    },
    instanceSubs,
    () => {
      // vrrp_end_handler()
      const vr = lastVrrp();
      if (vr.unicastConfigured && (vr.vmac || vr.ipvlan)) {
        if (!vr.ifp) {
          err(`(${vr.name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac`);
          vr.vmac = false;
          vr.ipvlan = false;
          vr.vmacIfname = undefined;
        } else if (!vr.vmacXmitBase) {
          err(`(${vr.name}) unicast with use_vmac requires vmac_xmit_base - setting`);
          vr.vmacXmitBase = true;
        }
      }
      if (!vr.unicastPeers.length && vr.ttl !== -1) {
        err(`(${vr.name}): Cannot use unicast_ttl without unicast peers - resetting`);
        vr.ttl = 0;
      }
      if (!vr.ifp) vr.linkbeatUsePolling = false;
    },
  );

  // ------------------------------------------------------------ vrrp_script
  const scriptKw = root(
    'vrrp_script',
    active,
    (sv) => {
      if (!sv) return;
      V.scripts.push({
        name: sv.slot(1),
        file: rep.pos.file,
        line: rep.pos.line,
        intervalS: 1,
        timeoutS: 0,
        weight: 0,
        weightReverse: false,
        rise: 1,
        fall: 1,
        initFail: false,
        userSet: false,
        remove: false,
      });
    },
    [
      kw('script', (sv) => {
        const s = lastScript();
        const line = rawLine(ctx, sv!);
        if (!line || line.length < 2) return;
        const argv = splitQuotedEscaped(rep, line[1]);
        if (!argv) return;
        s.script = { argv, raw: line[1], uid: s.script?.uid ?? 0, gid: s.script?.gid ?? 0, user: s.script?.user, group: s.script?.group };
      }),
      kw('interval', (sv) => {
        const s = lastScript();
        let v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
        if (v === null) return err(`(${s.name}): vrrp script interval '${sv!.slot(1)}' must be between 1 and ${Math.floor(UINT_MAX / TIMER_HZ)} - ignoring`);
        if (v === 0) {
          err(`(${s.name}): vrrp script interval must be greater than 0, setting to 1`);
          v = 1;
        }
        s.intervalS = v;
      }),
      kw('timeout', (sv) => {
        const s = lastScript();
        let v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
        if (v === null) return err(`(${s.name}): vrrp script timeout '${sv!.slot(1)}' invalid - ignoring`);
        if (v === 0) {
          err(`(${s.name}): vrrp script timeout must be greater than 0, setting to 1`);
          v = 1;
        }
        s.timeoutS = v;
      }),
      kw('weight', (sv) => {
        const s = lastScript();
        const v = readInt(rep, sv!.slot(1), -253, 253);
        if (v === null) {
          err(`vrrp_script ${s.name} weight ${sv!.slot(1)} must be in [-253, 253]`);
          // keepalived stores whatever strtol produced (vrrp_parser.c)
          const raw = Number.parseInt(sv!.slot(1), 10);
          s.weight = Number.isFinite(raw) ? raw : 0;
        } else s.weight = v;
        if (sv!.size >= 3) {
          if (sv!.slot(2) === 'reverse') s.weightReverse = true;
          else err(`vrrp_script ${s.name} unknown weight option ${sv!.slot(2)}`);
        }
      }),
      kw('rise', (sv) => {
        const s = lastScript();
        const v = readUnsigned(rep, sv!.slot(1), 1, 2147483647);
        if (v === null) {
          err(`(${s.name}): vrrp script rise value '${sv!.slot(1)}' invalid, defaulting to 1`);
          s.rise = 1;
        } else s.rise = v;
      }),
      kw('fall', (sv) => {
        const s = lastScript();
        const v = readUnsigned(rep, sv!.slot(1), 1, 2147483647);
        if (v === null) {
          err(`(${s.name}): vrrp script fall value '${sv!.slot(1)}' invalid, defaulting to 1`);
          s.fall = 1;
        } else s.fall = v;
      }),
      kw('user', (sv) => {
        const s = lastScript();
        const ids = ctx.users.resolve(sv!.slot(1), sv!.raw(2));
        if (!ids) {
          err(`Unable to set uid/gid for script ${s.script?.argv.join(' ') ?? ''}`);
          s.remove = true;
        } else {
          s.remove = false;
          s.userSet = true;
          s.script = { argv: s.script?.argv ?? [], raw: s.script?.raw ?? '', uid: ids.uid, gid: ids.gid, user: sv!.slot(1), group: sv!.raw(2) };
        }
      }),
      kw('init_fail', () => (lastScript().initFail = true)),
    ],
    () => {
      const s = lastScript();
      if (!s.script || !s.script.argv.length) {
        err(`No script set for vrrp_script ${s.name} - removing`);
        s.remove = true;
      } else if (!s.remove && !s.userSet) {
        const ids = ctx.users.getDefault();
        if (!ids) {
          err(`Unable to set default user for vrrp script ${s.name} - removing`);
          s.remove = true;
        } else {
          s.script.uid = ids.uid;
          s.script.gid = ids.gid;
        }
      }
      if (s.remove) V.scripts.pop();
    },
  );

  // ------------------------------------------------------------ track process
  const procDelay = (sv: StrVec, kind: 'delay' | 'terminate' | 'fork'): void => {
    const p = lastProc();
    const v = readDecimal(rep, sv.slot(1), 1, 3600 * TIMER_HZ, 6);
    if (v === null)
      return err(`${kind === 'terminate' ? 'terminate_' : kind === 'fork' ? 'fork_' : ''}delay (${sv.slot(1)}) for vrrp_track_process ${p.name} must be between [0.000001..3600] inclusive. Ignoring...`);
    if (kind !== 'fork') p.terminateDelayUs = v;
    if (kind !== 'terminate') p.forkDelayUs = v;
  };
  const processKw = root(
    'vrrp_track_process',
    active,
    (sv) => {
      if (!sv) return;
      V.trackProcesses.push({
        name: sv.slot(1),
        file: rep.pos.file,
        line: rep.pos.line,
        paramMatch: 'none',
        weight: 0,
        weightReverse: false,
        quorum: 1,
        quorumMax: UINT_MAX,
        terminateDelayUs: 0,
        forkDelayUs: 0,
        fullCommand: false,
      });
    },
    [
      kw('process', (sv) => {
        const p = lastProc();
        if (p.process !== undefined) return err(`Process already set for track process ${p.name} - ignoring ${sv!.slot(1)}`);
        p.process = sv!.slot(1);
        if (sv!.size > 2) {
          p.params = sv!.t.slice(2);
          if (p.paramMatch === 'none') p.paramMatch = 'exact';
          p.fullCommand = true;
        }
      }),
      kw('param_match', (sv) => {
        const p = lastProc();
        if (sv!.size === 1) {
          p.paramMatch = 'exact';
          p.fullCommand = true;
        } else if (sv!.slot(1) === 'initial' || sv!.slot(1) === 'partial') {
          p.paramMatch = sv!.slot(1) as 'initial' | 'partial';
          p.fullCommand = true;
        } else err(`Invalid param_match type ${sv!.slot(1)} - ignoring`);
      }),
      kw('weight', (sv) => {
        const p = lastProc();
        if (sv!.size < 2) return err(`No weight specified for track process ${p.name} - ignoring`);
        if (p.weight) return err(`Weight already set for track process ${p.name} - ignoring ${sv!.slot(1)}`);
        const w = readInt(rep, sv!.slot(1), -254, 254);
        if (w === null) return err(`Weight (${sv!.slot(1)}) for vrrp_track_process ${p.name} must be between [-254..254] inclusive. Ignoring...`);
        if (sv!.size >= 3) {
          if (sv!.slot(2) === 'reverse') p.weightReverse = true;
          else err(`vrrp_track_process ${p.name} unknown weight option ${sv!.slot(2)}`);
        }
        p.weight = w;
      }),
      kw('quorum', (sv) => {
        const p = lastProc();
        const v = readUnsigned(rep, sv!.slot(1), 1, 65535);
        if (v === null) return err(`Quorum (${sv!.slot(1)}) for vrrp_track_process ${p.name} must be between [1..65535] inclusive. Ignoring...`);
        if (v > p.quorumMax) return err('Quorum is greater than quorum_max - ignoring');
        p.quorum = v;
      }),
      kw('quorum_max', (sv) => {
        const p = lastProc();
        const v = readUnsigned(rep, sv!.slot(1), 0, 65535);
        if (v === null) return err(`quorum_max (${sv!.slot(1)}) for vrrp_track_process ${p.name} must be between [0..65535] inclusive. Ignoring...`);
        if ((v || p.quorum > 1) && v < p.quorum) return err('quorum_max is less than quorum - ignoring');
        p.quorumMax = v;
        if (v === 0) p.quorum = 0;
        else if (!p.quorum) p.quorum = 1;
      }),
      kw('delay', (sv) => procDelay(sv!, 'delay')),
      kw('terminate_delay', (sv) => procDelay(sv!, 'terminate')),
      kw('fork_delay', (sv) => procDelay(sv!, 'fork')),
      kw('full_command', () => (lastProc().fullCommand = true)),
    ],
    () => {
      const p = lastProc();
      if (p.process === undefined) {
        err(`track process '${p.name}' process name not specified`);
        V.trackProcesses.pop();
      }
    },
  );

  // ------------------------------------------------------------ if delays
  const ifDelaysKw = root('interface_up_down_delays', active, (sv) => {
    if (!sv) return;
    ctx.d.allocValueBlock(sv, (v) => {
      const name = v.slot(0);
      const ifp = ctx.host.interfaces().get(name) ?? (g.dynamicInterfaces ? ({ name } as HostInterface) : undefined);
      if (!ifp) return rep.error(ConfErr.FATAL, `unknown interface ${name} specified for up/down delay`);
      if (v.size < 2) return rep.log(`No timeouts specified for ${name} up/down delays`);
      if (v.size > 3) rep.log(`Too many parameters for ${name} up/down delays`);
      const down = readTimerUs(rep, v.slot(1), 0, 255 * TIMER_HZ);
      if (down === null) return rep.log(`Invalid down delay ${v.slot(1)} for ${name}`);
      let up = 0;
      if (v.size > 2) {
        const u = readTimerUs(rep, v.slot(2), 0, 255 * TIMER_HZ);
        if (u === null) return rep.log(`Invalid up delay ${v.slot(2)} for ${name}`);
        up = u;
      }
      const existing = V.ifDelays.findIndex((d) => d.interface === name);
      const entry = { interface: name, downDelayMs: down / 1000, upDelayMs: up / 1000 };
      if (existing >= 0) V.ifDelays[existing] = entry;
      else V.ifDelays.push(entry);
    });
  });

  return [
    trackGroupKw,
    staticBlock('static_ipaddress', (v) => {
      const a = allocIpaddress(ctx, v, true, V.staticTrackGroups);
      if (a) V.staticAddresses.push(a);
    }),
    staticBlock('static_routes', (v) => {
      const r = allocRoute(ctx, v, true, V.staticTrackGroups);
      if (r) V.staticRoutes.push(r);
    }),
    staticBlock('static_rules', (v) => {
      const r = allocRule(ctx, v, true, V.staticTrackGroups);
      if (r) V.staticRules.push(r);
    }),
    syncGroupKw,
    garpGroupKw,
    linkbeatKw,
    instanceKw,
    scriptKw,
    processKw,
    ifDelaysKw,
  ];
}

export { isLinkLocal6 };
