/**
 * Helpers for the tests that run inside the User-Mode-Linux kernel (test/ipvs/run-in-uml.sh).
 * These tests touch the guest's root network namespace (IPVS is per namespace, and the
 * vitest process programs its own), so they refuse to run anywhere but in the guest.
 */
import { execFileSync } from 'node:child_process';
import { ipToBytes } from '../../src/lvs/addr';
import type { KernelService } from '../../src/lvs/types';

export function assertGuest(): void {
  if (process.env.KEEPWATCH_UML_GUEST !== '1') {
    throw new Error('test/ipvs must run inside the UML kernel: test/ipvs/run-in-uml.sh npx vitest run test/ipvs');
  }
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

export function ipvsadm(...args: string[]): string {
  return run('ipvsadm', args);
}

function cmpBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

function proto(s: KernelService): string {
  return s.fwmark ? 'FWM' : (s.protocol ?? 'TCP');
}

/**
 * Render a kernel table the way `ipvsadm -Ln` prints it (ipvsadm 1.31): services sorted
 * by fwmark, family, protocol, address, port; destinations by address then port. Used to
 * check that what our client dumps is exactly what ipvsadm sees.
 */
export function renderIpvsadm(table: KernelService[], connTableSize = 4096): string {
  const protoRank = (s: KernelService) => (s.fwmark ? 0 : ({ TCP: 6, UDP: 17, SCTP: 132 } as const)[s.protocol ?? 'TCP']);
  const svcs = [...table].sort(
    (a, b) =>
      a.fwmark - b.fwmark ||
      (a.family === b.family ? 0 : a.family === 'inet' ? -1 : 1) ||
      protoRank(a) - protoRank(b) ||
      (a.fwmark ? 0 : cmpBytes(ipToBytes(a.address), ipToBytes(b.address))) ||
      a.port - b.port,
  );
  const hp = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
  const lines = [
    `IP Virtual Server version 1.2.1 (size=${connTableSize})`,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of svcs) {
    let l = s.fwmark ? `FWM  ${s.fwmark} ${s.family === 'inet6' ? 'IPv6 ' : ''}${s.scheduler}` : `${proto(s).padEnd(4)} ${hp(s.address, s.port)} ${s.scheduler}`;
    const fl: string[] = [];
    if (s.scheduler === 'sh' || s.scheduler === 'mh') {
      if (s.flags & 0x08) fl.push(`${s.scheduler}-fallback`);
      if (s.flags & 0x10) fl.push(`${s.scheduler}-port`);
    } else {
      if (s.flags & 0x08) fl.push('flag-1');
      if (s.flags & 0x10) fl.push('flag-2');
    }
    if (s.flags & 0x20) fl.push('flag-3');
    if (fl.length) l += ` (${fl.join(',')})`;
    if (s.flags & 0x01) {
      l += ` persistent ${s.timeout}`;
      const full = s.family === 'inet' ? 32 : 128;
      if (s.netmask !== full) {
        if (s.family === 'inet') {
          const m = s.netmask === 0 ? 0 : (0xffffffff << (32 - s.netmask)) >>> 0;
          l += ` mask ${[m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.')}`;
        } else l += ` mask ${s.netmask}`;
      }
      if (s.peName) l += ` pe ${s.peName}`;
    }
    if (s.flags & 0x04) l += ' ops';
    lines.push(l);
    const fwd = { NAT: 'Masq', DR: 'Route', TUN: 'Tunnel', LOCAL: 'Local', BYPASS: 'Bypass' } as const;
    const dests = [...s.dests].sort((a, b) => cmpBytes(ipToBytes(a.address), ipToBytes(b.address)) || a.port - b.port);
    for (const d of dests) {
      lines.push(
        `  -> ${hp(d.address, d.port).padEnd(28)} ${fwd[d.forwarding].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactConns).padEnd(10)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
