/**
 * Gratuitous ARP and unsolicited Neighbour Advertisement, built byte-for-byte as
 * keepalived 2.2.7 builds them (vrrp_arp.c, vrrp_ndisc.c) and sent as whole Ethernet
 * frames on an AF_PACKET socket (through koffi: raw-socket has no AF_PACKET).
 * Whole frames let the source MAC be the VMAC even when sending on the parent.
 *
 * Reference frames (shared/reference/keepalived-2.2.7/vrrp-v2-multicast.txt, vrrp-v3-ipv6.txt):
 *   GARP: ff:ff:ff:ff:ff:ff <- MAC, ARP *request*, sha=MAC spa=VIP tha=ff:ff:ff:ff:ff:ff tpa=VIP, 42 bytes
 *   NA:   33:33:00:00:00:01 <- MAC, IPv6 hlim 255 src=VIP dst=ff02::1, ICMPv6 136,
 *         flags O (+R when forwarding is on), target=VIP, option 2 (target LL addr)=MAC, 86 bytes
 */
import { readFileSync } from 'node:fs';
import type { Announcer } from './types';
import { parseIpv4, parseIpv6, parseMac } from './addr';
import { internetChecksum, pseudoHeaderSum6 } from '../vrrp/packet';
import { AF_PACKET, SOCK_CLOEXEC, SOCK_RAW, codedError, errno, ifHwAddr, ifIndex, libc, sysError } from './libc';

const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;

/**
 * Gratuitous ARP (RFC 5227 §3 "ARP Announcement" style, as keepalived sends it):
 *
 *   dst ff:ff:ff:ff:ff:ff | src MAC | 0x0806
 *   htype 1 | ptype 0x0800 | hlen 6 | plen 4 | op 1 (request)
 *   sha MAC | spa VIP | tha ff:ff:ff:ff:ff:ff | tpa VIP
 */
export function buildGarpFrame(mac: Uint8Array, ip: Uint8Array): Buffer {
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  f.set(mac.subarray(0, 6), 6);
  f.writeUInt16BE(ETH_P_ARP, 12);
  f.writeUInt16BE(1, 14); // ARPHRD_ETHER
  f.writeUInt16BE(0x0800, 16); // ETHERTYPE_IP
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // ARPOP_REQUEST (keepalived: request, not reply)
  f.set(mac.subarray(0, 6), 22);
  f.set(ip.subarray(0, 4), 28);
  f.fill(0xff, 32, 38); // keepalived: target hardware address all ones
  f.set(ip.subarray(0, 4), 38);
  return f;
}

/**
 * Unsolicited Neighbour Advertisement (RFC 4861 §4.4, §7.2.6):
 *
 *   dst 33:33:00:00:00:01 (RFC 2464 §7) | src MAC | 0x86dd
 *   IPv6: ver 6, tc 0, flow 0, plen 32, nh 58, hlim 255, src VIP, dst ff02::1
 *   ICMPv6: type 136 code 0 cksum | R S O + reserved | target VIP |
 *           option 2 (target link-layer address) len 1 | MAC
 * Solicited is clear (unsolicited), Override set (replace caches), Router set if this node
 * forwards IPv6 (keepalived: get_ipv6_forwarding(ifp)).
 */
export function buildUnsolicitedNaFrame(mac: Uint8Array, ip6: Uint8Array, router: boolean): Buffer {
  const f = Buffer.alloc(86);
  f[0] = 0x33;
  f[1] = 0x33;
  f[5] = 0x01;
  f.set(mac.subarray(0, 6), 6);
  f.writeUInt16BE(ETH_P_IPV6, 12);
  const ip = 14;
  f[ip] = 0x60;
  f.writeUInt16BE(32, ip + 4);
  f[ip + 6] = 58; // ICMPv6
  f[ip + 7] = 255; // RFC 4861 §7.1.2: receivers drop NAs whose hop limit is not 255
  f.set(ip6.subarray(0, 16), ip + 8);
  const dst = parseIpv6('ff02::1')!;
  dst.copy(f, ip + 24);
  const icmp = ip + 40;
  f[icmp] = 136;
  f[icmp + 1] = 0;
  f[icmp + 4] = (router ? 0x80 : 0) | 0x20;
  f.set(ip6.subarray(0, 16), icmp + 8);
  f[icmp + 24] = 2; // ND_OPT_TARGET_LL_ADDR
  f[icmp + 25] = 1; // length in units of 8 bytes
  f.set(mac.subarray(0, 6), icmp + 26);
  // checksum over the IPv6 pseudo-header (RFC 8200 §8.1) + the ICMPv6 message
  const pseudo = pseudoHeaderSum6(f.subarray(ip + 8, ip + 24), f.subarray(ip + 24, ip + 40), 32, 58);
  f.writeUInt16BE(internetChecksum(f.subarray(icmp, icmp + 32), pseudo), icmp + 2);
  return f;
}

/** struct sockaddr_ll (20 bytes) addressed to an interface, as keepalived's send_arp(). */
function sockaddrLl(ifindex: number, protocol: number, mac: Uint8Array): Buffer {
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeUInt16BE(protocol, 2);
  sll.writeInt32LE(ifindex, 4);
  sll[11] = 6; // sll_halen
  sll.set(mac.subarray(0, 6), 12);
  return sll;
}

/** keepalived get_ipv6_forwarding(): the Router flag follows net/ipv6/conf/IF/forwarding. */
function ipv6Forwarding(ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'latin1').trim() === '1';
  } catch {
    return false;
  }
}

type SendError = Error & { code: string; sent?: number };

class PacketAnnouncer implements Announcer {
  private fd = -1;
  private closed = false;

  /**
   * One send-only AF_PACKET socket for all interfaces (sendto picks the interface).
   * Protocol 0: nothing is ever queued for reading on it (keepalived's ETH_P_IPV6 socket
   * would receive every IPv6 frame into a buffer nobody reads).
   */
  private socket(): number | SendError {
    if (this.fd >= 0) return this.fd;
    const fd = libc().socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) return sysError('socket', errno(), 'AF_PACKET');
    this.fd = fd;
    return fd;
  }

  /** Resolve everything, then send each frame; resolves with the count sent. */
  private send(what: string, ifname: string, proto: number, addresses: string[], srcMac: string | undefined, build: (mac: Buffer, ip: Buffer) => Buffer | null): Promise<number> {
    if (this.closed) return Promise.reject(codedError('EBADF', `${what}: announcer closed`));
    const fd = this.socket();
    if (typeof fd !== 'number') return Promise.reject(fd);
    const idx = ifIndex(ifname);
    if (typeof idx !== 'number') return Promise.reject(idx);
    let mac: Buffer;
    if (srcMac !== undefined) {
      const m = parseMac(srcMac);
      if (!m) return Promise.reject(codedError('EINVAL', `${what}: bad source MAC ${srcMac}`));
      mac = m;
    } else {
      const m = ifHwAddr(ifname);
      if (!Buffer.isBuffer(m)) return Promise.reject(m);
      mac = m;
    }
    const sll = sockaddrLl(idx, proto, mac);
    let sent = 0;
    let first: SendError | null = null;
    for (const a of addresses) {
      const ip = proto === ETH_P_ARP ? parseIpv4(a) : parseIpv6(a);
      const f = ip ? build(mac, ip) : null;
      if (!f) {
        first ??= codedError('EINVAL', `${what}: bad address ${a}`);
        continue;
      }
      const n = Number(libc().sendto(fd, f, f.length, 0, sll, sll.length));
      if (n === f.length) sent++;
      else first ??= sysError('sendto', n < 0 ? errno() : 5 /* EIO: short write */, `${what} ${a} on ${ifname}`);
    }
    if (first) {
      first.sent = sent;
      return Promise.reject(first);
    }
    return Promise.resolve(sent);
  }

  garp(ifname: string, addresses: string[], srcMac?: string): Promise<number> {
    return this.send('gratuitous ARP', ifname, ETH_P_ARP, addresses, srcMac, (mac, ip) => (ip.length === 4 ? buildGarpFrame(mac, ip) : null));
  }

  unsolicitedNa(ifname: string, addresses: string[], srcMac?: string): Promise<number> {
    const router = ipv6Forwarding(ifname);
    return this.send('unsolicited NA', ifname, ETH_P_IPV6, addresses, srcMac, (mac, ip) => (ip.length === 16 ? buildUnsolicitedNaFrame(mac, ip, router) : null));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) libc().close(this.fd);
    this.fd = -1;
  }
}

/**
 * Gratuitous ARP / unsolicited NA sender. Promises reject with an Error carrying `code`
 * (ENODEV, EINVAL, ENETDOWN...) and `sent` (frames that did go out before the failure).
 */
export function createAnnouncer(): Announcer {
  return new PacketAnnouncer();
}
