/**
 * What keepalived 2.2.7 looks at on the host while checking a configuration:
 * network interfaces (vrrp/vrrp_if.c, read with netlink before the VRRP
 * config is parsed), users and groups (getpwnam/getgrnam for script users),
 * script files (lib/notify.c check_script_secure: PATH search, realpath,
 * stat, ownership and write permissions), /etc/iproute2 name tables
 * (lib/rttables.c) and host names (getaddrinfo for smtp_server).
 *
 * The loader needs the same facts to reach the same verdict, so they are
 * behind this interface: `realHost()` reads this machine, tests inject fakes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

/** linux/if.h flags */
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
/** linux/if_arp.h */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

export interface HostInterface {
  name: string;
  ifindex: number;
  flags: number;
  /** ARPHRD_* */
  hwType: number;
  mtu: number;
  /** primary IPv4 address, if any */
  ipv4?: string;
  /** IPv6 link-local address, if any */
  ipv6LinkLocal?: string;
  /** "macvlan", "ipvlan", "vrf", ... (from /sys/class/net/X/uevent DEVTYPE / kind) */
  kind?: string;
}

export interface FileStat {
  isFile: boolean;
  isDir: boolean;
  isSymlink: boolean;
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
}

export interface HostEnv {
  interfaces(): Map<string, HostInterface>;
  hostname(): string;
  /** getpwnam: uid and primary gid, or null */
  user(name: string): { uid: number; gid: number } | null;
  /** getgrnam */
  group(name: string): number | null;
  /** effective uid/gid keepalived (and we) run as */
  ourUid(): number;
  ourGid(): number;
  stat(p: string): FileStat | null;
  lstat(p: string): FileStat | null;
  realpath(p: string): string | null;
  /** PATH used for bare script names */
  pathEnv(): string;
  /** contents of an /etc/iproute2 table file, or null */
  readIproute2(file: string): string | null;
  /** getaddrinfo(name) → family of the first answer, or null */
  resolve(name: string): 'inet' | 'inet6' | null;
  /** access(W_OK) on /proc/sys/net/ipv4/igmp_link_local_mcast_reports */
  igmpLinkLocalWritable(): boolean;
}

function toStat(s: fs.Stats): FileStat {
  return {
    isFile: s.isFile(),
    isDir: s.isDirectory(),
    isSymlink: s.isSymbolicLink(),
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    dev: s.dev,
    ino: s.ino,
  };
}

function readSys(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

function readPasswdLike(file: string): string[][] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** The real host this process runs on. */
export function realHost(): HostEnv {
  let ifCache: Map<string, HostInterface> | null = null;
  return {
    interfaces() {
      if (ifCache) return ifCache;
      const m = new Map<string, HostInterface>();
      let names: string[] = [];
      try {
        names = fs.readdirSync('/sys/class/net');
      } catch {
        names = [];
      }
      const addrs = os.networkInterfaces();
      for (const name of names) {
        const base = `/sys/class/net/${name}`;
        const ifindex = Number(readSys(`${base}/ifindex`) ?? 0);
        const flags = Number(readSys(`${base}/flags`) ?? 0);
        const hwType = Number(readSys(`${base}/type`) ?? 0);
        const mtu = Number(readSys(`${base}/mtu`) ?? 1500);
        const uevent = readSys(`${base}/uevent`) ?? '';
        const devtype = /DEVTYPE=(\S+)/.exec(uevent)?.[1];
        const a = addrs[name] ?? [];
        const v4 = a.find((x) => x.family === 'IPv4')?.address;
        const ll = a.find((x) => x.family === 'IPv6' && /^fe[89ab]/i.test(x.address))?.address;
        m.set(name, { name, ifindex, flags, hwType, mtu, ipv4: v4, ipv6LinkLocal: ll, kind: devtype });
      }
      ifCache = m;
      return m;
    },
    hostname: () => os.hostname(),
    user(name) {
      const row = readPasswdLike('/etc/passwd').find((r) => r[0] === name);
      if (row) return { uid: Number(row[2]), gid: Number(row[3]) };
      if (/^\d+$/.test(name)) return null;
      // Fall back to NSS (LDAP/sssd users) the way getpwnam would.
      const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 5000 });
      if (r.status === 0 && r.stdout) {
        const f = r.stdout.trim().split(':');
        return { uid: Number(f[2]), gid: Number(f[3]) };
      }
      return null;
    },
    group(name) {
      const row = readPasswdLike('/etc/group').find((r) => r[0] === name);
      if (row) return Number(row[2]);
      const r = spawnSync('getent', ['group', name], { encoding: 'utf8', timeout: 5000 });
      if (r.status === 0 && r.stdout) return Number(r.stdout.trim().split(':')[2]);
      return null;
    },
    ourUid: () => (typeof process.geteuid === 'function' ? process.geteuid() : 0),
    ourGid: () => (typeof process.getegid === 'function' ? process.getegid() : 0),
    stat(p) {
      try {
        return toStat(fs.statSync(p));
      } catch {
        return null;
      }
    },
    lstat(p) {
      try {
        return toStat(fs.lstatSync(p));
      } catch {
        return null;
      }
    },
    realpath(p) {
      try {
        return fs.realpathSync.native(p);
      } catch {
        return null;
      }
    },
    pathEnv: () => process.env.PATH ?? '/bin:/usr/bin',
    readIproute2(file) {
      // keepalived 2.2.7 lib/rttables.c reads only IPROUTE2_DIR "/etc/iproute2/"
      // (not the *.d directories, not /usr/share/iproute2).
      try {
        return fs.readFileSync(path.join('/etc/iproute2', file), 'utf8');
      } catch {
        return null;
      }
    },
    resolve(name) {
      // getaddrinfo() goes through NSS (/etc/hosts, DNS, ...); `getent ahosts`
      // is the same call, so the answer matches keepalived's.
      const r = spawnSync('getent', ['ahosts', name], { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0 || !r.stdout) return null;
      const first = r.stdout.split('\n')[0]?.split(/\s+/)[0] ?? '';
      return first.includes(':') ? 'inet6' : 'inet';
    },
    igmpLinkLocalWritable() {
      try {
        fs.accessSync('/proc/sys/net/ipv4/igmp_link_local_mcast_reports', fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}
