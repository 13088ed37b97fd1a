/**
 * A deterministic host for config-model unit tests: the interfaces, users and
 * files keepalived would look at, without depending on the machine.
 */
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_LOOPBACK, IFF_MULTICAST, IFF_UP, type FileStat, type HostEnv, type HostInterface } from '../../src/config/schema/host';
import { loadConfigText, type LoadResult } from '../../src/config/load';

export interface FakeFile {
  mode: number;
  uid?: number;
  gid?: number;
}

export interface FakeHostOptions {
  interfaces?: HostInterface[];
  users?: Record<string, { uid: number; gid: number }>;
  groups?: Record<string, number>;
  /** absolute path → file (directories get S_IFDIR automatically when listed with a trailing '/') */
  files?: Record<string, FakeFile>;
}

export const DEFAULT_INTERFACES: HostInterface[] = [
  { name: 'lo', ifindex: 1, flags: IFF_UP | IFF_LOOPBACK, hwType: ARPHRD_LOOPBACK, mtu: 65536, ipv4: '127.0.0.1' },
  { name: 'eth0', ifindex: 2, flags: IFF_UP | IFF_MULTICAST, hwType: ARPHRD_ETHER, mtu: 1500, ipv4: '192.0.2.2', ipv6LinkLocal: 'fe80::2' },
  { name: 'eth1', ifindex: 3, flags: IFF_UP | IFF_MULTICAST, hwType: ARPHRD_ETHER, mtu: 1500, ipv4: '198.51.100.2' },
  { name: 'nomc0', ifindex: 4, flags: IFF_UP, hwType: ARPHRD_ETHER, mtu: 1500 },
];

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export const DEFAULT_FILES: Record<string, FakeFile> = {
  '/': { mode: S_IFDIR | 0o755 },
  '/bin': { mode: S_IFDIR | 0o755 },
  '/bin/true': { mode: S_IFREG | 0o755 },
  '/bin/false': { mode: S_IFREG | 0o755 },
  '/etc': { mode: S_IFDIR | 0o755 },
  '/etc/keepalived': { mode: S_IFDIR | 0o755 },
  '/etc/keepalived/notify.sh': { mode: S_IFREG | 0o755 },
  '/tmp': { mode: S_IFDIR | 0o1777 },
  '/tmp/world-writable.sh': { mode: S_IFREG | 0o777 },
  '/etc/keepalived/not-executable.sh': { mode: S_IFREG | 0o644 },
};

export function fakeHost(opts: FakeHostOptions = {}): HostEnv {
  const ifs = new Map((opts.interfaces ?? DEFAULT_INTERFACES).map((i) => [i.name, i]));
  const users = opts.users ?? { root: { uid: 0, gid: 0 }, nobody: { uid: 65534, gid: 65534 } };
  const groups = opts.groups ?? { root: 0, nogroup: 65534 };
  const files = opts.files ?? DEFAULT_FILES;
  let ino = 1;
  const inodes = new Map<string, number>();
  const st = (p: string): FileStat | null => {
    const f = files[p];
    if (!f) return null;
    if (!inodes.has(p)) inodes.set(p, ino++);
    const isDir = (f.mode & 0o170000) === S_IFDIR;
    return { isFile: !isDir, isDir, isSymlink: false, mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0, dev: 1, ino: inodes.get(p)! };
  };
  return {
    interfaces: () => ifs,
    hostname: () => 'testhost',
    user: (n) => users[n] ?? null,
    group: (n) => (n in groups ? groups[n] : null),
    ourUid: () => 0,
    ourGid: () => 0,
    stat: st,
    lstat: st,
    realpath: (p) => (files[p] ? p : null),
    pathEnv: () => '/bin',
    readIproute2: (f) => (f === 'rt_tables' ? '255\tlocal\n254\tmain\n253\tdefault\n100\tvip\n' : null),
    resolve: (name) => (name === 'localhost' ? 'inet' : null),
    igmpLinkLocalWritable: () => true,
  };
}

/** load configuration text against the fake host */
export function load(text: string, opts: FakeHostOptions = {}, file = 'test.conf'): LoadResult {
  return loadConfigText(text, { host: fakeHost(opts), file, configId: 'testhost' });
}

/** a minimal valid instance with `extra` lines inside it */
export function instance(extra = '', name = 'VI_1', vrid = 51, vip = '192.0.2.10/24'): string {
  return `vrrp_instance ${name} {
    interface eth0
    virtual_router_id ${vrid}
    virtual_ipaddress {
        ${vip}
    }
${extra}
}
`;
}
