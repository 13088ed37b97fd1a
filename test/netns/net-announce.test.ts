/**
 * src/net/announce.ts: gratuitous ARP and unsolicited NA on the wire, captured with
 * tcpdump in the peer namespace, compared field by field (and byte by byte for ARP)
 * with keepalived 2.2.7's frames, plus their effect on the peer's neighbour cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { startAgent, startCapture, type Agent, type AgentError, type Handle } from '../helpers/ns-node';

/** Split `tcpdump -xx` output into packets: { text, bytes }. */
function packets(lines: string[]): Array<{ text: string; bytes: Buffer }> {
  const out: Array<{ text: string; hex: string }> = [];
  for (const l of lines) {
    const m = /^\s+0x[0-9a-f]{4}:\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(l);
    if (m && out.length) out[out.length - 1]!.hex += m[1]!.replace(/\s+/g, '');
    else if (/^\d{2}:\d{2}:\d{2}\./.test(l)) out.push({ text: l, hex: '' });
    else if (out.length) out[out.length - 1]!.text += `\n${l}`;
  }
  return out.map((p) => ({ text: p.text, bytes: Buffer.from(p.hex, 'hex') }));
}

function macOf(lab: Lab, host: string): string {
  return /link\/ether ([0-9a-f:]{17})/.exec(lab.hosts[host]!.ip('link', 'show', 'dev', 'eth0'))![1]!;
}

/** keepalived vrrp_arp.c layout, written out independently of src/net/announce.ts */
function expectedGarp(mac: string, ip: string): string {
  const m = mac.replace(/:/g, '');
  const i = ip
    .split('.')
    .map((x) => Number(x).toString(16).padStart(2, '0'))
    .join('');
  return `ffffffffffff${m}0806` + `0001080006040001${m}${i}ffffffffffff${i}`;
}

describe('gratuitous ARP and unsolicited NA', () => {
  let lab: Lab;
  let a: Agent;
  let ann: Handle;
  let macA: string;

  beforeAll(async () => {
    lab = makeLab('na', [
      { name: 'a', v4: ['192.0.2.1/24'], v6: ['2001:db8::1/64'] },
      { name: 'b', v4: ['192.0.2.2/24'], v6: ['2001:db8::2/64'] },
    ]);
    macA = macOf(lab, 'a');
    a = await startAgent(lab.hosts.a!, { mustExist: ['net/announce.js'] });
    ann = await a.call<Handle>('net/announce', 'createAnnouncer');
  });

  afterAll(() => {
    a?.kill();
    lab?.destroy();
  });

  it('sends one broadcast ARP request per VIP, byte-identical to keepalived', async () => {
    const cap = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-e', '-xx', '-c', '2', 'arp and arp[6:2] == 1']);
    expect(await a.invoke(ann, 'garp', 'eth0', ['192.0.2.100', '192.0.2.101'])).toBe(2);
    const got = packets(await cap.done);
    expect(got).toHaveLength(2);
    for (const [i, ip] of ['192.0.2.100', '192.0.2.101'].entries()) {
      expect(got[i]!.text).toContain(`${macA} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${ip} (ff:ff:ff:ff:ff:ff) tell ${ip}, length 28`);
      expect(got[i]!.bytes.toString('hex')).toBe(expectedGarp(macA, ip));
    }
  });

  it('forges the VMAC source and updates the peer ARP cache', async () => {
    const b = lab.hosts.b!;
    b.ip('neigh', 'replace', '192.0.2.100', 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'stale');
    const cap = await startCapture(b, ['-i', 'eth0', '-n', '-e', '-c', '1', 'arp and arp[6:2] == 1']);
    expect(await a.invoke(ann, 'garp', 'eth0', ['192.0.2.100'], '00:00:5e:00:01:33')).toBe(1);
    const [line] = await cap.done;
    expect(line).toContain('00:00:5e:00:01:33 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100');
    await waitFor(() => /lladdr 00:00:5e:00:01:33/.test(b.ip('neigh', 'show', '192.0.2.100', 'dev', 'eth0')), 'b ARP cache to point at the VMAC');
  });

  it('sends an unsolicited NA (hop limit 255, ff02::1, O flag, target LL option) as keepalived does', async () => {
    const cap = await startCapture(lab.hosts.b!, ['-i', 'eth0', '-n', '-e', '-vv', '-c', '1', 'icmp6 and ip6[40] == 136']);
    expect(await a.invoke(ann, 'unsolicitedNa', 'eth0', ['2001:db8::100'])).toBe(1);
    const text = (await cap.done).join('\n');
    expect(text).toContain(`${macA} > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8::100 > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8::100, Flags [override]`);
    expect(text).toContain(`destination link-address option (2), length 8 (1): ${macA}`);
  });

  it('sets the Router flag when IPv6 forwarding is on, and the VMAC updates the peer neighbour cache', async () => {
    const b = lab.hosts.b!;
    lab.hosts.a!.sysctl('net.ipv6.conf.eth0.forwarding', '1');
    b.ip('-6', 'neigh', 'replace', '2001:db8::100', 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'stale');
    const cap = await startCapture(b, ['-i', 'eth0', '-n', '-e', '-vv', '-c', '1', 'icmp6 and ip6[40] == 136']);
    expect(await a.invoke(ann, 'unsolicitedNa', 'eth0', ['2001:db8::100'], '00:00:5e:00:02:34')).toBe(1);
    const text = (await cap.done).join('\n');
    expect(text).toContain('00:00:5e:00:02:34 > 33:33:00:00:00:01');
    expect(text).toContain('tgt is 2001:db8::100, Flags [router, override]');
    expect(text).toContain('destination link-address option (2), length 8 (1): 00:00:5e:00:02:34');
    await waitFor(() => /lladdr 00:00:5e:00:02:34/.test(b.ip('-6', 'neigh', 'show', '2001:db8::100', 'dev', 'eth0')), 'b ND cache to point at the VMAC');
    lab.hosts.a!.sysctl('net.ipv6.conf.eth0.forwarding', '0');
  });

  it('reports errors as coded rejections', async () => {
    const nodev = (await a.invoke(ann, 'garp', 'nope0', ['192.0.2.100']).catch((e) => e)) as AgentError;
    expect(nodev.code).toBe('ENODEV');
    const badMac = (await a.invoke(ann, 'garp', 'eth0', ['192.0.2.100'], 'zz:00').catch((e) => e)) as AgentError;
    expect(badMac.code).toBe('EINVAL');
    const wrongFamily = (await a.invoke(ann, 'unsolicitedNa', 'eth0', ['192.0.2.100']).catch((e) => e)) as AgentError;
    expect(wrongFamily.code).toBe('EINVAL');
    expect(wrongFamily.sent).toBe(0);
  });

  it('close() releases the packet socket: the process exits on its own', async () => {
    await a.invoke(ann, 'close');
    const closed = (await a.invoke(ann, 'garp', 'eth0', ['192.0.2.100']).catch((e) => e)) as AgentError;
    expect(closed.code).toBe('EBADF');
    expect(await a.end()).toBe('exited');
  });
});
