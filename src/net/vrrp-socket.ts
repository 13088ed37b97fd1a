/**
 * VRRP transport: one raw IP-protocol-112 socket per interface (SO_BINDTODEVICE), as
 * keepalived 2.2.7 opens one per instance interface.
 *
 * IPv4 uses raw-socket 1.8.1 (event-loop integrated, receives the IP header so the
 * engine can check TTL = 255, RFC 3768 §7.1 / RFC 5798 §7.1). When a source address is
 * given the IPv4 header is built here (IP_HDRINCL, src/vrrp/packet.ts buildIpv4Header),
 * like keepalived's vrrp_build_ip4(). Why: raw-socket has no bind(), so the kernel picks
 * the source; on a VMAC holding only the VIP it picked the VIP and the VRRPv3 checksum
 * (pseudo-header includes the source) broke (npm-feasibility.md §1).
 *
 * IPv6 cannot use raw-socket: it reads with recvfrom(), so the hop limit (RFC 5798 §7.1:
 * "MUST verify that the IPv6 Hop Limit is 255") and the arrival interface are lost. The
 * IPv6 socket is therefore opened through koffi and read with recvmsg() +
 * IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO, as keepalived does. Pure JS has no fd-readiness
 * API, so one worker thread (shared by all IPv6 VRRP sockets) blocks in poll() on the
 * sockets and a wake-up pipe, copies each datagram out of native memory (koffi.decode,
 * never koffi.view: a view aliases memory that is reused for the next packet) and posts
 * it to the main thread. Sending stays on the main thread (sendmsg + IPV6_PKTINFO).
 * koffi over a N-API addon: koffi is already a prebuilt dependency (no compiler at
 * install time), and the whole receive loop is ~80 lines of JS.
 *
 * The socket (and the multicast join) is created synchronously in createVrrpSocket(),
 * so packets arriving before the thread polls it wait in the socket buffer, and the
 * socket lives in the network namespace of the calling thread. The receive thread keeps
 * the process alive while any IPv6 VRRP socket is open, and stops after the last close().
 */
import * as raw from 'raw-socket';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ReceivedPacket, VrrpSocket, VrrpSocketOptions } from './types';
import { formatIpv4, formatIpv6, isLinkLocal6, isLinkScopeMulticast6, parseIpv4, parseIpv6 } from './addr';
import { buildIpv4Header, nextIpId } from '../vrrp/packet';
import {
  AF_INET6,
  IPPROTO_IP,
  IPPROTO_IPV6,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_SOCKET,
  SO_BINDTODEVICE,
  codedError,
  errno,
  ifIndex,
  koffiModulePath,
  libc,
  makePipe,
  setOpt,
  sysError,
} from './libc';

export const IPPROTO_VRRP = 112;
/** RFC 3768 §5.2.2 / RFC 5798 §5.1.1.2 */
export const VRRP_GROUP_V4 = '224.0.0.18';
/** RFC 5798 §5.1.2.2 */
export const VRRP_GROUP_V6 = 'ff02::12';

// include/uapi/linux/in.h
const IP_TOS = 1;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
// include/uapi/linux/in6.h
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_TCLASS = 67;

/** keepalived sets IP_TOS / IPV6_TCLASS to IPTOS_PREC_INTERNETCONTROL. */
const TOS_INTERNETCONTROL = 0xc0;
/** a whole IP datagram: nothing is ever truncated (VRRP fits the MTU, even a jumbo one) */
const RECV_BUF = 65536;

/**
 * Open a VRRP socket on one interface. Throws (synchronously, in the caller's stack) an
 * Error with `code` (ENODEV, EINVAL, EPERM ...) when the socket cannot be set up; after
 * that, every failure is delivered to onError() and nothing throws.
 */
export function createVrrpSocket(opts: VrrpSocketOptions): VrrpSocket {
  if (opts.family === 'ipv4') return new Ipv4VrrpSocket(opts);
  if (opts.family === 'ipv6') return new Ipv6VrrpSocket(opts);
  throw codedError('EAFNOSUPPORT', `unknown family ${String((opts as { family: unknown }).family)}`);
}

abstract class BaseSocket {
  private packetCbs: Array<(p: ReceivedPacket) => void> = [];
  private errorCbs: Array<(e: Error) => void> = [];
  protected closed = false;
  protected readonly ifindex: number;

  constructor(protected readonly opts: VrrpSocketOptions) {
    if (!Number.isInteger(opts.ttl) || opts.ttl > 255 || (opts.ttl < 0 && opts.family === 'ipv4') || opts.ttl < -1)
      throw codedError('EINVAL', `bad TTL ${opts.ttl} for ${opts.ifname}`);
    const idx = ifIndex(opts.ifname);
    if (typeof idx !== 'number') throw idx;
    this.ifindex = idx;
  }

  onPacket(cb: (p: ReceivedPacket) => void): void {
    this.packetCbs.push(cb);
  }

  onError(cb: (err: Error) => void): void {
    this.errorCbs.push(cb);
  }

  /** Send-only sockets (no onPacket listener) skip copying and parsing what they receive. */
  protected get listening(): boolean {
    return this.packetCbs.length > 0;
  }

  /** A throwing packet handler must not take the socket (or the process) down. */
  protected deliver(p: ReceivedPacket): void {
    for (const cb of this.packetCbs) {
      try {
        cb(p);
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  protected fail(err: Error): void {
    for (const cb of this.errorCbs) {
      try {
        cb(err);
      } catch {
        /* an error handler that throws has nowhere left to report to */
      }
    }
  }

  /** Errors found inside send() are reported after send() returns, like socket errors. */
  protected failLater(err: Error): void {
    process.nextTick(() => this.fail(err));
  }
}

/** ip_mreqn: multiaddr(4) + address(4) + ifindex(int) — IP_ADD_MEMBERSHIP and IP_MULTICAST_IF. */
function mreqn(group: Buffer | null, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  if (group) group.copy(b, 0);
  b.writeInt32LE(ifindex, 8);
  return b;
}

/**
 * Open IPv4 sockets are held here until close(): raw-socket's native wrapper is a weak
 * handle, so a socket reachable only through its own listeners was garbage-collected
 * (and stopped receiving, and let the process exit) — seen with a receive-only script.
 * Node's own sockets keep themselves alive while open; so do ours.
 */
const openIpv4 = new Set<Ipv4VrrpSocket>();

class Ipv4VrrpSocket extends BaseSocket implements VrrpSocket {
  private readonly sock: raw.Socket;
  private readonly src: Buffer | null;
  /** raw-socket queues sends until the fd is writable; close() waits for them */
  private pendingSends = 0;
  private released = false;
  /** keepalived: its own IP ID counter, +1 per packet, never 0 (capture: first advert id 1) */
  private ipId = 0;

  constructor(opts: VrrpSocketOptions) {
    super(opts);
    if (opts.srcAddress !== undefined) {
      const s = parseIpv4(opts.srcAddress);
      if (!s) throw codedError('EINVAL', `bad IPv4 source address ${opts.srcAddress}`);
      this.src = s;
    } else this.src = null;
    const sock = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: IPPROTO_VRRP, bufferSize: RECV_BUF });
    try {
      const dev = Buffer.from(`${opts.ifname}\0`, 'latin1');
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
      sock.setOption(IPPROTO_IP, IP_TOS, TOS_INTERNETCONTROL);
      sock.setOption(IPPROTO_IP, IP_TTL, opts.ttl);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, opts.ttl);
      // keepalived: IP_MULTICAST_LOOP off — our own adverts must not come back to us
      sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
      const ifreq = mreqn(null, this.ifindex);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, ifreq, ifreq.length);
      if (this.src) sock.setOption(IPPROTO_IP, IP_HDRINCL, 1);
      if (opts.multicast) {
        const m = mreqn(parseIpv4(VRRP_GROUP_V4), this.ifindex);
        sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, m, m.length);
      }
    } catch (e) {
      sock.close();
      const err = e instanceof Error ? e : new Error(String(e));
      throw Object.assign(new Error(`VRRP IPv4 socket on ${opts.ifname}: ${err.message}`), { code: (err as { code?: string }).code ?? 'EINVAL' });
    }
    sock.on('message', (buf, source) => this.receive(buf, source));
    sock.on('error', (e) => this.fail(Object.assign(e, { code: (e as { code?: string }).code ?? 'EIO' })));
    // raw-socket closes the socket itself after a poll error: from then on it is dead
    sock.on('close', () => {
      openIpv4.delete(this);
      this.released = true;
      if (this.closed) return;
      this.closed = true;
      this.fail(codedError('EPIPE', `VRRP IPv4 socket on ${opts.ifname} closed after an error`));
    });
    this.sock = sock;
    openIpv4.add(this);
  }

  private receive(buf: Buffer, source: string): void {
    if (this.closed || !this.listening) return;
    // raw-socket hands out a slice of one reused receive buffer: copy before anything else
    const pkt = Buffer.from(buf);
    const ihl = pkt.length > 0 ? (pkt[0]! & 0x0f) * 4 : 0;
    const hdrLen = Math.min(Math.max(ihl, 20), pkt.length);
    const total = pkt.length >= 4 ? Math.min(pkt.readUInt16BE(2), pkt.length) : pkt.length;
    const ipHeader = pkt.subarray(0, hdrLen);
    const vrrp = pkt.subarray(hdrLen, Math.max(hdrLen, total));
    this.deliver({
      vrrp,
      ipHeader,
      src: pkt.length >= 16 ? formatIpv4(pkt, 12) : source,
      dst: pkt.length >= 20 ? formatIpv4(pkt, 16) : undefined,
      ttl: pkt.length >= 9 ? pkt[8] : undefined,
      ifindex: this.ifindex,
      ifname: this.opts.ifname,
    });
  }

  send(vrrp: Buffer, dst: string): void {
    if (this.closed) return this.failLater(codedError('EBADF', `send on closed VRRP socket ${this.opts.ifname}`));
    const d = parseIpv4(dst);
    if (!d) return this.failLater(codedError('EINVAL', `bad IPv4 destination ${dst}`));
    let out: Buffer;
    if (this.src) {
      this.ipId = nextIpId(this.ipId);
      let hdr: Buffer;
      try {
        hdr = buildIpv4Header({ src: this.opts.srcAddress!, dst, ttl: this.opts.ttl, protocol: IPPROTO_VRRP, payloadLength: vrrp.length, id: this.ipId });
      } catch (e) {
        return this.failLater(codedError('EINVAL', `IPv4 header ${this.opts.srcAddress} -> ${dst}: ${(e as Error).message}`));
      }
      out = Buffer.concat([hdr, vrrp]);
    } else out = Buffer.from(vrrp); // the send may be queued: do not alias the caller's buffer
    // Send now, like keepalived's sendto() from the timer thread. raw-socket's send() only
    // queues the packet until the next poll phase of the event loop, so everything else the
    // caller does synchronously first (VIP netlink requests, GARP setup, journal observers,
    // the rest of a shutdown) delayed the advert by 1.5–4 ms — measured by bench/takeover.mjs
    // as late takeovers and a late priority-0 advert on SIGTERM (RFC 5798 §6.4.3: on
    // Shutdown "send an ADVERTISEMENT with Priority = 0" — the backup's Skew_Time starts
    // only when it arrives). The socket is non-blocking: a full send buffer (EAGAIN) falls
    // back to the queue, and so does anything sent while earlier sends are still queued, so
    // the order on the wire never changes.
    if (this.pendingSends === 0 && this.sendNow(out, dst)) return;
    this.pendingSends++;
    this.sock.send(out, 0, out.length, dst, (err) => {
      this.pendingSends--;
      if (err) this.fail(Object.assign(err, { code: (err as { code?: string }).code ?? 'EIO' }));
      if (this.closed && this.pendingSends === 0) this.release();
    });
  }

  /**
   * One synchronous sendto() through raw-socket's native wrapper (the same call its queue
   * makes once the fd is writable). true = handled (sent, or failed with an error that is
   * reported through onError as the queued path would); false = EAGAIN, queue it.
   */
  private sendNow(out: Buffer, dst: string): boolean {
    const wrap = (this.sock as unknown as { wrap?: { send?: (b: Buffer, off: number, len: number, addr: string, cb: (bytes: number) => void) => unknown } }).wrap;
    if (typeof wrap?.send !== 'function') return false;
    try {
      wrap.send.call(wrap, out, 0, out.length, dst, () => {});
      return true;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (/temporarily unavailable|would block|no buffer space/i.test(err.message)) return false;
      this.failLater(Object.assign(err, { code: (err as { code?: string }).code ?? 'EIO' }));
      return true;
    }
  }

  /**
   * Sends already queued still go out: on shutdown the engine sends a priority-0 advert
   * (RFC 5798 §6.4.3 / RFC 3768 §6.4.3) and closes at once, and raw-socket would drop a
   * queued send on close. Received packets are no longer delivered after close().
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pendingSends === 0) this.release();
    // a send that never completes must not keep the socket (and the process) alive
    else setTimeout(() => this.release(), 1000).unref();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    openIpv4.delete(this);
    this.sock.close(); // closing the socket also leaves the multicast group
  }
}

/** What the receive thread posts (raw bytes; parsed on the main thread). */
interface RxMessage {
  kind: 'pkt' | 'err' | 'removed';
  fd: number;
  data?: Uint8Array;
  name?: Uint8Array;
  ctrl?: Uint8Array;
  flags?: number;
  errno?: number;
  syscall?: string;
}

/** Control messages to the receive thread (read synchronously after a wake-up byte). */
type RxControl = { op: 'add'; fd: number } | { op: 'remove'; fd: number } | { op: 'exit' };

/**
 * The receive thread: ONE for all IPv6 VRRP sockets of the process (a worker is a V8
 * isolate, ~10 MB RSS each; measured 48 -> 59 -> 83 MB for 0/1/4 per-socket workers).
 * Self-contained (it runs from its own source text with eval, so it works from dist/ and
 * from TypeScript test runners alike): only `require` and workerData.
 *
 * It blocks in poll() on [wake pipe, socket fds...]. The main thread adds/removes fds by
 * posting on a MessageChannel and writing one byte to the pipe; the thread then drains the
 * pipe and reads the channel with receiveMessageOnPort (its event loop is blocked in
 * poll, so 'message' events would never run). A removed fd is acknowledged ('removed')
 * and only then closed by the main thread: closing an fd another thread polls is a race.
 */
function rxWorkerMain(): void {
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const parentPort = wt.parentPort!;
  const workerData = wt.workerData as { wakeFd: number; ctl: import('node:worker_threads').MessagePort; koffiPath: string; bufSize: number };
  const k: any = require(workerData.koffiPath);
  const lib = k.load('libc.so.6');
  const iovec = k.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = k.struct({
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const poll = lib.func('int poll(void *, unsigned long, int)');
  const read = lib.func('long read(int, void *, size_t)');
  const recvmsg = lib.func('recvmsg', 'long', ['int', k.inout(k.pointer(msghdr)), 'int']);
  const EINTR = 4;
  const EAGAIN = 11;
  const POLLIN = 1;
  const size = workerData.bufSize;
  const dataP = k.alloc('uint8', size);
  const nameP = k.alloc('uint8', 28);
  const ctrlP = k.alloc('uint8', 256);
  const iovP = k.alloc(iovec, 1);
  k.encode(iovP, iovec, { iov_base: dataP, iov_len: size });
  const bytes = (p: unknown, n: number): Uint8Array => (n > 0 ? k.decode(p, k.array('uint8', n)) : new Uint8Array(0));
  const drain = Buffer.alloc(64);
  let fds: number[] = [];
  let running = true;
  while (running) {
    const pfd = Buffer.alloc(8 * (fds.length + 1)); // struct pollfd { int fd; short events; short revents; }
    pfd.writeInt32LE(workerData.wakeFd, 0);
    pfd.writeInt16LE(POLLIN, 4);
    fds.forEach((fd, i) => {
      pfd.writeInt32LE(fd, 8 * (i + 1));
      pfd.writeInt16LE(POLLIN, 8 * (i + 1) + 4);
    });
    const r = poll(pfd, fds.length + 1, -1);
    if (r < 0) {
      const e = k.errno();
      if (e === EINTR) continue;
      parentPort.postMessage({ kind: 'err', fd: -1, errno: e, syscall: 'poll' });
      break;
    }
    if (pfd.readInt16LE(6) !== 0) {
      read(workerData.wakeFd, drain, drain.length);
      for (let m = wt.receiveMessageOnPort(workerData.ctl); m; m = wt.receiveMessageOnPort(workerData.ctl)) {
        const c = m.message as RxControl;
        if (c.op === 'add') fds.push(c.fd);
        else if (c.op === 'remove') {
          fds = fds.filter((x) => x !== c.fd);
          parentPort.postMessage({ kind: 'removed', fd: c.fd });
        } else running = false;
      }
      continue; // the fd list changed: poll again before reading
    }
    for (let i = 0; i < fds.length; i++) {
      const fd = fds[i]!;
      const rev = pfd.readInt16LE(8 * (i + 1) + 6);
      if (rev === 0) continue;
      if (rev & (8 | 32)) {
        // POLLERR / POLLNVAL: stop polling it, tell the owner
        parentPort.postMessage({ kind: 'err', fd, errno: 9 /* EBADF */, syscall: 'poll' });
        fds = fds.filter((x) => x !== fd);
        break;
      }
      const msg = { msg_name: nameP, msg_namelen: 28, msg_iov: iovP, msg_iovlen: 1, msg_control: ctrlP, msg_controllen: 256, msg_flags: 0 };
      const n = Number(recvmsg(fd, msg, 0x40 /* MSG_DONTWAIT */));
      if (n < 0) {
        const e = k.errno();
        if (e !== EAGAIN && e !== EINTR) parentPort.postMessage({ kind: 'err', fd, errno: e, syscall: 'recvmsg' });
        continue;
      }
      parentPort.postMessage({
        kind: 'pkt',
        fd,
        data: bytes(dataP, n),
        name: bytes(nameP, Math.min(28, Number(msg.msg_namelen))),
        ctrl: bytes(ctrlP, Math.min(256, Number(msg.msg_controllen))),
        flags: msg.msg_flags,
      });
    }
  }
  k.free(dataP);
  k.free(nameP);
  k.free(ctrlP);
  k.free(iovP);
}

interface RxClient {
  fromWorker(m: RxMessage): void;
  /** the thread no longer polls this fd: it may be closed now (reason: the thread died) */
  released(reason?: Error): void;
}

/**
 * Main-thread side of the shared receive thread. A hub stops its thread when its last
 * socket is released (so a process with no VRRP sockets can exit); the next socket
 * starts a fresh hub.
 */
class RxHub {
  private readonly worker: Worker;
  private readonly ctl: MessagePort;
  private readonly wake: [number, number];
  private readonly clients = new Map<number, RxClient>();
  private stopping = false;
  private crash: Error | null = null;

  constructor() {
    const pipe = makePipe();
    if (!Array.isArray(pipe)) throw pipe;
    this.wake = pipe;
    const { port1, port2 } = new MessageChannel();
    this.ctl = port1;
    try {
      this.worker = new Worker(`(${rxWorkerMain.toString()})()`, {
        eval: true,
        workerData: { wakeFd: pipe[0], ctl: port2, koffiPath: koffiModulePath(), bufSize: RECV_BUF },
        transferList: [port2],
      });
    } catch (e) {
      libc().close(pipe[0]);
      libc().close(pipe[1]);
      throw Object.assign(new Error(`VRRP IPv6 receive thread: ${(e as Error).message}`), { code: 'EWORKER' });
    }
    this.worker.on('message', (m: RxMessage) => this.dispatch(m));
    this.worker.on('error', (e) => {
      this.crash = e;
    });
    this.worker.on('exit', () => {
      if (hub === this) hub = null;
      this.stopping = true;
      // whatever is still registered can no longer receive; its fd is safe to close now
      for (const c of this.clients.values()) c.released(this.crash ?? undefined);
      this.clients.clear();
      libc().close(this.wake[0]);
      libc().close(this.wake[1]);
      this.ctl.close();
    });
  }

  private control(c: RxControl): boolean {
    this.ctl.postMessage(c);
    return Number(libc().write(this.wake[1], Buffer.from([1]), 1)) === 1;
  }

  add(fd: number, client: RxClient): boolean {
    if (this.stopping) return false;
    this.clients.set(fd, client);
    if (this.control({ op: 'add', fd })) return true;
    this.clients.delete(fd);
    return false;
  }

  remove(fd: number): void {
    if (!this.clients.has(fd)) return;
    if (!this.control({ op: 'remove', fd })) void this.worker.terminate(); // cannot wake it: stop it
  }

  private dispatch(m: RxMessage): void {
    if (m.kind === 'err' && m.fd < 0) {
      for (const c of this.clients.values()) c.fromWorker(m);
      return;
    }
    const client = this.clients.get(m.fd);
    if (!client) return;
    if (m.kind === 'removed') {
      this.clients.delete(m.fd);
      client.released();
      if (this.clients.size === 0) {
        this.stopping = true;
        if (hub === this) hub = null;
        if (!this.control({ op: 'exit' })) void this.worker.terminate();
      }
      return;
    }
    client.fromWorker(m);
  }
}

let hub: RxHub | null = null;

function rxHub(): RxHub {
  hub ??= new RxHub();
  return hub;
}

/** RFC 3542 §20.2 CMSG_ALIGN on LP64 */
const cmsgAlign = (n: number) => (n + 7) & ~7;

class Ipv6VrrpSocket extends BaseSocket implements VrrpSocket, RxClient {
  private fd: number;
  private readonly hub: RxHub;
  private readonly src: Buffer | null;
  private linkLocal: Buffer | null = null;
  private linkLocalAt = -Infinity;

  constructor(opts: VrrpSocketOptions) {
    super(opts);
    if (opts.srcAddress !== undefined) {
      const s = parseIpv6(opts.srcAddress);
      if (!s) throw codedError('EINVAL', `bad IPv6 source address ${opts.srcAddress}`);
      this.src = s;
    } else this.src = null;
    const c = libc();
    const fd = c.socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_VRRP);
    if (fd < 0) throw sysError('socket', errno(), `AF_INET6 proto 112 on ${opts.ifname}`);
    this.fd = fd;
    const dev = Buffer.from(`${opts.ifname}\0`, 'latin1');
    const hops = opts.ttl; // -1: kernel default (keepalived sends unicast without IPV6_HOPLIMIT unless unicast_ttl)
    const mreq6 = Buffer.alloc(20); // ipv6_mreq: addr(16) + ifindex(u32)
    parseIpv6(VRRP_GROUP_V6)!.copy(mreq6, 0);
    mreq6.writeUInt32LE(this.ifindex, 16);
    const steps: Array<[number, number, Buffer | number, string]> = [
      [SOL_SOCKET, SO_BINDTODEVICE, dev, `SO_BINDTODEVICE ${opts.ifname}`],
      // RFC 5798 §5.2.8: the kernel computes and verifies the checksum (pseudo-header incl.)
      [IPPROTO_IPV6, IPV6_CHECKSUM, 6, 'IPV6_CHECKSUM'],
      [IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, 'IPV6_RECVHOPLIMIT'],
      [IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, 'IPV6_RECVPKTINFO'],
      [IPPROTO_IPV6, IPV6_MULTICAST_IF, this.ifindex, 'IPV6_MULTICAST_IF'],
      [IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops, 'IPV6_MULTICAST_HOPS'],
      [IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops, 'IPV6_UNICAST_HOPS'],
      [IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP'],
      [IPPROTO_IPV6, IPV6_TCLASS, TOS_INTERNETCONTROL, 'IPV6_TCLASS'],
    ];
    if (opts.multicast) steps.push([IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq6, `IPV6_JOIN_GROUP ff02::12 on ${opts.ifname}`]);
    for (const [level, name, value, what] of steps) {
      const err = setOpt(fd, level, name, value, what);
      if (err) {
        c.close(fd);
        throw err;
      }
    }
    try {
      this.hub = rxHub();
    } catch (e) {
      c.close(fd);
      throw e;
    }
    if (!this.hub.add(fd, this)) {
      c.close(fd);
      throw codedError('EWORKER', `VRRP IPv6 receive thread unavailable for ${opts.ifname}`);
    }
  }

  fromWorker(m: RxMessage): void {
    if (this.closed) return;
    if (m.kind === 'err') {
      this.fail(sysError(m.syscall ?? 'recvmsg', m.errno ?? 0, `on ${this.opts.ifname}`));
      return;
    }
    if (!this.listening) return;
    const name = Buffer.from(m.name!.buffer, m.name!.byteOffset, m.name!.byteLength);
    const ctrl = Buffer.from(m.ctrl!.buffer, m.ctrl!.byteOffset, m.ctrl!.byteLength);
    let ttl: number | undefined;
    let dst: string | undefined;
    let ifindex: number | undefined;
    for (let off = 0; off + 16 <= ctrl.length; ) {
      const len = Number(ctrl.readBigUInt64LE(off));
      if (len < 16 || off + len > ctrl.length) break;
      const level = ctrl.readInt32LE(off + 8);
      const type = ctrl.readInt32LE(off + 12);
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len >= 20) ttl = ctrl.readInt32LE(off + 16);
      if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= 36) {
        dst = formatIpv6(ctrl, off + 16);
        ifindex = ctrl.readUInt32LE(off + 32);
      }
      off += cmsgAlign(len);
    }
    this.deliver({
      vrrp: Buffer.from(m.data!.buffer, m.data!.byteOffset, m.data!.byteLength),
      src: name.length >= 24 ? formatIpv6(name, 8) : '::',
      dst,
      ttl,
      ifindex: ifindex ?? this.ifindex,
      ifname: this.opts.ifname,
    });
  }

  /**
   * RFC 5798 §5.1.2.1: the IPv6 source of an advert MUST be the interface's link-local
   * address (keepalived: vrrp->saddr defaults to ifp->sin6_addr). Re-read at most every
   * 5 s so a link-local added after start (e.g. on a fresh VMAC) is picked up.
   */
  private sourceAddress(): Buffer | null {
    if (this.src) return this.src;
    const now = performance.now();
    if (this.linkLocal && now - this.linkLocalAt < 5000) return this.linkLocal;
    this.linkLocalAt = now;
    this.linkLocal = null;
    for (const a of networkInterfaces()[this.opts.ifname] ?? []) {
      if (a.family !== 'IPv6') continue;
      const b = parseIpv6(a.address);
      if (b && isLinkLocal6(b)) {
        this.linkLocal = b;
        break;
      }
    }
    return this.linkLocal;
  }

  send(vrrp: Buffer, dst: string): void {
    if (this.closed) return this.failLater(codedError('EBADF', `send on closed VRRP socket ${this.opts.ifname}`));
    const d = parseIpv6(dst);
    if (!d) return this.failLater(codedError('EINVAL', `bad IPv6 destination ${dst}`));
    const name = Buffer.alloc(28); // sockaddr_in6
    name.writeUInt16LE(AF_INET6, 0);
    d.copy(name, 8);
    if (isLinkLocal6(d) || isLinkScopeMulticast6(d)) name.writeUInt32LE(this.ifindex, 24);
    // IPV6_PKTINFO cmsg: the source address and interface per packet (keepalived does the same)
    const ctrl = Buffer.alloc(cmsgAlign(16 + 20));
    ctrl.writeBigUInt64LE(BigInt(16 + 20), 0);
    ctrl.writeInt32LE(IPPROTO_IPV6, 8);
    ctrl.writeInt32LE(IPV6_PKTINFO, 12);
    const src = this.sourceAddress();
    if (src) src.copy(ctrl, 16); // else :: lets the kernel choose
    ctrl.writeUInt32LE(this.ifindex, 32);
    const msg = {
      msg_name: name,
      msg_namelen: name.length,
      msg_iov: [{ iov_base: vrrp, iov_len: vrrp.length }],
      msg_iovlen: 1,
      msg_control: ctrl,
      msg_controllen: ctrl.length,
      msg_flags: 0,
    };
    const n = Number(libc().sendmsg(this.fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (n < 0) {
      const err = sysError('sendmsg', errno(), `to ${dst} on ${this.opts.ifname}`);
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'EINVAL') this.linkLocalAt = -Infinity; // re-resolve next time
      this.failLater(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // the fd is closed once the receive thread has stopped polling it (released())
    this.hub.remove(this.fd);
  }

  released(reason?: Error): void {
    if (!this.closed) {
      // the receive thread went away under us: this socket can no longer receive
      this.closed = true;
      this.fail(codedError('EPIPE', `VRRP IPv6 receive thread for ${this.opts.ifname} stopped${reason ? ` (${reason.message})` : ''}`));
    }
    if (this.fd >= 0) libc().close(this.fd);
    this.fd = -1;
  }
}
