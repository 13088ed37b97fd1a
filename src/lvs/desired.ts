/**
 * Desired IPVS table = configuration x health. Pure.
 *
 * keepalived 2.2.7 reaches the same table imperatively (check/ipwrapper.c); the rules it
 * follows, restated as "what must be in the kernel now":
 *  - a real server that is up is present with its effective weight (perform_svr_state);
 *  - a real server that is down is absent, or present with weight 0 when it has
 *    inhibit_on_failure (ipvswrapper.c ipvs_cmd turns DELDEST into EDITDEST weight 0);
 *  - when the quorum is lost and a sorry server is configured, the sorry server is present
 *    with its weight and the live real servers are taken out (update_quorum_state ->
 *    perform_quorum_state), inhibited ones staying at weight 0;
 *  - otherwise the sorry server is absent, or at weight 0 with sorry_server_inhibit;
 *  - with the quorum lost and no sorry server the live servers stay ("we don't push in a
 *    sorry server then, hence the regression is intended").
 * Ports: NAT destinations keep their own port; DR/TUN use the service port, and 0 for
 * fwmark services (check_data.c validate_check_config, ipvswrapper.c ipvs_group_cmd).
 */
import { canonicalIp } from './addr';
import { destKeyString } from './keys';
import { SVC_FLAGS } from './types';
import type { DesiredService, DestKey, ForwardingMethod, IpvsDest, IpvsService, ServiceKey, TunnelSpec, VirtualServerSpec, VsHealth } from './types';

/** IPVS_DEST weights are s32; keepalived clamps with real_weight() (IPVS_WEIGHT_LIMIT). */
export const IPVS_WEIGHT_LIMIT = 2147483647;

export function clampWeight(w: number): number {
  if (!Number.isFinite(w) || w < 0) return 0;
  return Math.min(Math.trunc(w), IPVS_WEIGHT_LIMIT);
}

/** The IPVS service parameters a virtual server gives each of its endpoints. */
export function serviceParams(vs: VirtualServerSpec, ep: ServiceKey): IpvsService {
  const persistent = vs.persistenceTimeout > 0;
  const full = ep.family === 'inet' ? 32 : 128;
  return {
    family: ep.family,
    fwmark: ep.fwmark,
    protocol: ep.fwmark ? null : ep.protocol,
    address: ep.fwmark ? '' : canonicalIp(ep.address),
    port: ep.fwmark ? 0 : ep.port,
    scheduler: vs.scheduler,
    flags: (vs.flags & ~SVC_FLAGS.HASHED & ~SVC_FLAGS.PERSISTENT) | (persistent ? SVC_FLAGS.PERSISTENT : 0),
    timeout: persistent ? vs.persistenceTimeout : 0,
    // keepalived ipvs_set_srule: granularity and pe only go with persistence
    netmask: persistent && vs.persistenceGranularity !== null ? vs.persistenceGranularity : full,
    peName: persistent ? vs.peName : '',
  };
}

function destPort(ep: ServiceKey, forwarding: ForwardingMethod, port: number): number {
  if (forwarding !== 'NAT') return ep.fwmark ? 0 : ep.port;
  return port || (ep.fwmark ? 0 : ep.port);
}

function makeDest(ep: ServiceKey, s: { address: string; port: number; forwarding: ForwardingMethod; tunnel?: TunnelSpec; upperThreshold?: number; lowerThreshold?: number }, weight: number): IpvsDest {
  const address = canonicalIp(s.address);
  const d: IpvsDest = {
    family: address.includes(':') ? 'inet6' : 'inet',
    address,
    port: destPort(ep, s.forwarding, s.port),
    forwarding: s.forwarding,
    weight: clampWeight(weight),
    upperThreshold: s.upperThreshold ?? 0,
    lowerThreshold: s.lowerThreshold ?? 0,
  };
  if (s.forwarding === 'TUN') {
    d.tunnelType = s.tunnel?.type ?? 'ipip';
    if (d.tunnelType === 'gue') d.tunnelPort = s.tunnel?.port ?? 0;
    if (d.tunnelType !== 'ipip') d.tunnelFlags = s.tunnel?.flags ?? 0;
  }
  return d;
}

/** Key a real server by (address, port) as configured: VsHealth maps use this. */
export function realServerKey(rs: { address: string; port: number }): string {
  return destKeyString({ address: rs.address, port: rs.port });
}

/** Is the sorry server in use (quorum lost and one configured)? */
export function sorryActive(vs: VirtualServerSpec, health: VsHealth): boolean {
  return !health.quorumUp && vs.sorryServer !== undefined;
}

export function desiredServices(vs: VirtualServerSpec, health: VsHealth): DesiredService[] {
  const sorry = sorryActive(vs, health);
  return vs.endpoints.map((ep) => {
    const dests = new Map<string, IpvsDest>();
    const managed = new Map<string, DestKey>();
    for (const rs of vs.realServers) {
      const h = health.realServers.get(realServerKey(rs)) ?? { alive: false, weight: 0 };
      let weight: number | null;
      if (sorry) weight = rs.inhibitOnFailure ? 0 : null;
      else if (h.alive) weight = h.weight;
      else weight = rs.inhibitOnFailure ? 0 : null;
      const d = makeDest(ep, rs, weight ?? 0);
      const k = destKeyString(d);
      managed.set(k, { address: d.address, port: d.port });
      if (weight !== null) dests.set(k, d);
    }
    if (vs.sorryServer) {
      const weight = sorry ? vs.sorryServer.weight : vs.sorryServerInhibit ? 0 : null;
      const d = makeDest(ep, vs.sorryServer, weight ?? 0);
      const k = destKeyString(d);
      managed.set(k, { address: d.address, port: d.port });
      // a sorry server that is also a real server: while active it wins; otherwise the
      // real server's own entry (if any) stands (keepalived s_svr_duplicates_rs)
      if (weight !== null && (sorry || !dests.has(k))) dests.set(k, d);
    }
    return { ...serviceParams(vs, ep), owner: vs.name, dests: [...dests.values()], managed: [...managed.values()] };
  });
}

export function desiredTable(vss: VirtualServerSpec[], health: (vs: VirtualServerSpec) => VsHealth): DesiredService[] {
  return vss.flatMap((vs) => desiredServices(vs, health(vs)));
}
