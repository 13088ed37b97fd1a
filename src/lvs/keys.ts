/**
 * Stable string identities for IPVS services and destinations (map keys, journal
 * targets, log text). The notation follows ipvsadm -Ln / keepalived's FMT_VS / FMT_RS.
 */
import { canonicalIp, hostPort } from './addr';
import type { DestKey, ServiceKey } from './types';

export function serviceKeyString(k: ServiceKey): string {
  if (k.fwmark) return `FWM ${k.fwmark} ${k.family === 'inet6' ? 'IPv6' : 'IPv4'}`;
  return `${k.protocol ?? 'TCP'} ${hostPort(canonicalIp(k.address), k.port)}`;
}

export function destKeyString(d: DestKey): string {
  return hostPort(canonicalIp(d.address), d.port);
}

export function serviceKeyOf<T extends ServiceKey>(s: T): ServiceKey {
  return { family: s.family, fwmark: s.fwmark, protocol: s.fwmark ? null : s.protocol, address: s.fwmark ? '' : canonicalIp(s.address), port: s.fwmark ? 0 : s.port };
}
