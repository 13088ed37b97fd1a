/**
 * Per-interface sysctls for use_vmac, as keepalived 2.2.7 sets them
 * (vrrp_if_config.c set_interface_parameters / reset_interface_parameters):
 *
 *   VMAC:   arp_ignore=1        do not answer ARP for the parent's addresses
 *           accept_local=1      hear another instance's adverts sourced from a local address
 *           rp_filter=0         receive on a VMAC that has no address
 *           promote_secondaries=1
 *   parent: arp_ignore=1, arp_filter=1   the parent must not answer ARP for the VIPs;
 *           the old values are restored when the last VMAC on that parent goes away.
 *   IPv4 VMAC without IPv6 VIPs: disable_ipv6=1 (keepalived link_set_ipv6(ifp, false)).
 *
 * Paths use slashes, never the dotted sysctl name: "vrrp.51" would be read as two path
 * components ("net.ipv4.conf.vrrp.51.arp_ignore" -> .../conf/vrrp/51/...).
 *
 * Synchronous fs on purpose: these are one-byte writes to procfs, and /proc/sys/net
 * resolves against the network namespace of the *calling thread*; libuv's threadpool
 * (fs.promises) could sit in another namespace if a caller ever used setns.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export type SysctlError = Error & { code: string };

function toError(e: unknown, what: string): SysctlError {
  const code = (e as { code?: string } | null)?.code ?? 'EIO';
  const err = new Error(`${what}: ${code}`, { cause: e }) as SysctlError;
  err.code = code;
  return err;
}

/** /proc/sys/net/<ipv4|ipv6>/conf/<ifname>/<key>; throws nothing, validates the name. */
export function sysctlPath(family: 'ipv4' | 'ipv6', ifname: string, key: string): string {
  if (!/^[^/\0\s]{1,15}$/.test(ifname) || ifname === '.' || ifname === '..') return `/proc/sys/net/${family}/conf/<invalid ${JSON.stringify(ifname)}>/${key}`;
  return `/proc/sys/net/${family}/conf/${ifname}/${key}`;
}

/** Integer value of a sysctl file, or an Error with code (ENOENT for an unknown interface). */
export function readSysctl(path: string): number | SysctlError {
  try {
    const v = parseInt(readFileSync(path, 'latin1').trim(), 10);
    if (Number.isNaN(v)) return toError(Object.assign(new Error(), { code: 'EINVAL' }), `read ${path}`);
    return v;
  } catch (e) {
    return toError(e, `read ${path}`);
  }
}

export function writeSysctl(path: string, value: number): SysctlError | null {
  try {
    writeFileSync(path, `${value}\n`);
    return null;
  } catch (e) {
    return toError(e, `write ${path}=${value}`);
  }
}

export interface VmacSysctlOptions {
  /** IPv4 VMAC with no IPv6 (e)VIPs: turn IPv6 off on it (keepalived does) */
  disableIpv6?: boolean;
}

export interface VmacSysctl {
  /** Configure a new VMAC and its parent. Returns the failures (empty: all set). */
  setup(vmac: string, parent: string, opts?: VmacSysctlOptions): SysctlError[];
  /** A VMAC on `parent` was removed: restore the parent when it was the last one. */
  release(parent: string): SysctlError[];
  /** VMACs currently counted against a parent (for dumps/tests). */
  users(parent: string): number;
}

interface ParentState {
  users: number;
  arpIgnore: number | null; // value to restore, null if we did not change it
  arpFilter: number | null;
}

/** keepalived's reset_arp_config reference count per parent, kept per process. */
export function createVmacSysctl(): VmacSysctl {
  const parents = new Map<string, ParentState>();
  return {
    setup(vmac, parent, opts = {}) {
      const errors: SysctlError[] = [];
      const set = (family: 'ipv4' | 'ipv6', ifname: string, key: string, v: number) => {
        const e = writeSysctl(sysctlPath(family, ifname, key), v);
        if (e) errors.push(e);
      };
      set('ipv4', vmac, 'arp_ignore', 1);
      set('ipv4', vmac, 'accept_local', 1);
      set('ipv4', vmac, 'rp_filter', 0);
      set('ipv4', vmac, 'promote_secondaries', 1);
      if (opts.disableIpv6) set('ipv6', vmac, 'disable_ipv6', 1);
      const st = parents.get(parent);
      if (st) {
        st.users++;
        return errors;
      }
      const next: ParentState = { users: 1, arpIgnore: null, arpFilter: null };
      for (const [key, field] of [['arp_ignore', 'arpIgnore'], ['arp_filter', 'arpFilter']] as const) {
        const path = sysctlPath('ipv4', parent, key);
        const old = readSysctl(path);
        if (typeof old !== 'number') {
          errors.push(old);
          continue;
        }
        if (old !== 1) {
          const e = writeSysctl(path, 1);
          if (e) errors.push(e);
          else next[field] = old;
        }
      }
      parents.set(parent, next);
      return errors;
    },
    release(parent) {
      const st = parents.get(parent);
      if (!st) return [];
      if (--st.users > 0) return [];
      parents.delete(parent);
      const errors: SysctlError[] = [];
      if (st.arpIgnore !== null) {
        const e = writeSysctl(sysctlPath('ipv4', parent, 'arp_ignore'), st.arpIgnore);
        if (e) errors.push(e);
      }
      if (st.arpFilter !== null) {
        const e = writeSysctl(sysctlPath('ipv4', parent, 'arp_filter'), st.arpFilter);
        if (e) errors.push(e);
      }
      return errors;
    },
    users(parent) {
      return parents.get(parent)?.users ?? 0;
    },
  };
}
