/**
 * The few libc calls raw-socket and the netlink package do not give us (AF_PACKET,
 * recvmsg with ancillary data, ioctl, pipe2, if_nametoindex), through koffi.
 *
 * Why koffi and not a N-API addon: koffi 3.3.4 ships prebuilt binaries (nothing is
 * compiled at install, unlike raw-socket's node-gyp build), and every call here is a
 * plain synchronous syscall on a socket we own. The one thing pure JS lacks — fd
 * readiness — is covered by a worker thread that blocks in poll() (see vrrp-socket.ts).
 * shared/research/npm-feasibility.md §1 ("koffi also solves the IPv6 hop-limit receive").
 *
 * All calls run on the calling thread, so they act in that thread's network namespace;
 * keepwatch runs wholly inside one namespace (`ip netns exec`), like keepalived.
 */
import * as koffi from 'koffi';
import { constants as osConstants } from 'node:os';

// Linux x86-64/arm64 ABI constants (include/linux/socket.h, in.h, in6.h, if_ether.h)
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;
export const IPPROTO_IP = 0;
export const IPPROTO_IPV6 = 41;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const SIOCGIFHWADDR = 0x8927;

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.errno)) if (!errnoNames.has(num)) errnoNames.set(num, name);

/** Error carrying errno name (code), number and syscall, like Node's own system errors. */
export interface SysError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function sysError(syscall: string, errno: number, detail?: string): SysError {
  const code = errnoNames.get(errno) ?? `E${errno}`;
  const err = new Error(`${syscall}${detail ? ` ${detail}` : ''}: ${code}`) as SysError;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}

/** An Error with a code, for conditions that are not a failed syscall (bad arguments...). */
export function codedError(code: string, message: string): Error & { code: string } {
  const err = new Error(`${message}: ${code}`) as Error & { code: string };
  err.code = code;
  return err;
}

// Anonymous types: a named koffi type may be registered once per process, and a module
// can be evaluated more than once (test runners); type objects are passed instead.
export const iovecType = koffi.struct({ iov_base: 'void *', iov_len: 'size_t' });
export const msghdrType = koffi.struct({
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: koffi.pointer(iovecType),
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  close(fd: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number | bigint;
  sendmsg(fd: number, msg: unknown, flags: number): number | bigint;
  write(fd: number, buf: Buffer, len: number): number | bigint;
  pipe2(fds: number[], flags: number): number;
  if_nametoindex(name: string): number;
  if_indextoname(index: number, buf: Buffer): unknown;
  ioctl(fd: number, req: number, type: string, arg: Buffer): number;
}

let cached: Libc | null = null;

/** Bind libc lazily: importing a net module must not cost a dlopen for code that never sends. */
export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  cached = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    close: lib.func('int close(int)'),
    sendto: lib.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    sendmsg: lib.func('sendmsg', 'long', ['int', koffi.pointer(msghdrType), 'int']),
    write: lib.func('long write(int, const void *, size_t)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *)'),
    if_indextoname: lib.func('void *if_indextoname(unsigned int, void *)'),
    ioctl: lib.func('int ioctl(int, unsigned long, ...)'),
  } as unknown as Libc;
  return cached;
}

export function errno(): number {
  return koffi.errno();
}

export function intOpt(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

/** setsockopt with an Error value instead of -1/errno. */
export function setOpt(fd: number, level: number, name: number, value: Buffer | number, what: string): SysError | null {
  const buf = typeof value === 'number' ? intOpt(value) : value;
  if (libc().setsockopt(fd, level, name, buf, buf.length) < 0) return sysError('setsockopt', errno(), what);
  return null;
}

/** Interface index in the current namespace, or an ENODEV error. */
export function ifIndex(ifname: string): number | SysError {
  if (ifname.length === 0 || ifname.length > 15) return sysError('if_nametoindex', osConstants.errno.ENODEV, ifname);
  const idx = libc().if_nametoindex(ifname);
  return idx > 0 ? idx : sysError('if_nametoindex', errno() || osConstants.errno.ENODEV, ifname);
}

/** Interface name for an index in the current namespace, or null. */
export function ifName(index: number): string | null {
  const buf = Buffer.alloc(16); // IF_NAMESIZE
  if (!libc().if_indextoname(index, buf)) return null;
  const end = buf.indexOf(0);
  return buf.toString('latin1', 0, end < 0 ? 16 : end);
}

/** Hardware address of an interface (SIOCGIFHWADDR), or an error. */
export function ifHwAddr(ifname: string): Buffer | SysError {
  const c = libc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sysError('socket', errno());
  try {
    const ifr = Buffer.alloc(40); // struct ifreq: name[16] + sockaddr (ifr_hwaddr)
    ifr.write(ifname.slice(0, 15), 0, 'latin1');
    if (c.ioctl(fd, SIOCGIFHWADDR, 'void *', ifr) < 0) return sysError('ioctl', errno(), `SIOCGIFHWADDR ${ifname}`);
    return Buffer.from(ifr.subarray(18, 24)); // sa_family(2) then sa_data
  } finally {
    c.close(fd);
  }
}

/** A close-on-exec pipe: [readFd, writeFd]. */
export function makePipe(): [number, number] | SysError {
  const fds = [0, 0];
  if (libc().pipe2(fds, SOCK_CLOEXEC /* O_CLOEXEC has the same value */) < 0) return sysError('pipe2', errno());
  return [fds[0]!, fds[1]!];
}

export function koffiModulePath(): string {
  return require.resolve('koffi');
}
