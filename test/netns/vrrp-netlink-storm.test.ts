/**
 * A storm of netlink events while the daemon cannot read them. The netlink package's native
 * receive path aborts the process when recvmsg() fails, and an overflowing event socket
 * fails with ENOBUFS: a burst of link changes while the event loop was busy would have
 * killed the daemon and left its VIP behind. The event socket now drops what does not fit
 * (NETLINK_NO_ENOBUFS) into a larger buffer (src/net/netlink.ts hardenEventSocket).
 *
 * Lab "vs": a (192.0.2.11), VRRPv3 100 ms, VIP 192.0.2.50/24; a spare veth pair kwx0/kwx1
 * inside a is toggled 6000 times while the daemon is stopped (SIGSTOP): ~12 000 link events,
 * far more than any receive buffer holds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { instanceBlock, vrrpConf, vrrpLab, type KwNode, type VrrpLab } from '../helpers/agent';

const VIP = '192.0.2.50/24';

describe('netlink event storm while the daemon is stopped', () => {
  let lab: VrrpLab;
  let a: KwNode;
  let dir: string;

  beforeAll(async () => {
    lab = vrrpLab('vs', ['a'], false);
    lab.hosts.a!.ip('link', 'add', 'kwx0', 'type', 'veth', 'peer', 'name', 'kwx1');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kwt-storm-'));
    a = await lab.start('a', vrrpConf('a', instanceBlock({ state: 'MASTER', priority: 150 })));
    await a.waitState('MASTER');
    await waitFor(() => lab.hasAddr('a', VIP), 'VIP on a');
  });

  afterAll(async () => {
    await lab?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('survives the overflow, keeps its state and its VIP, and still sees link changes', async () => {
    const batch = path.join(dir, 'storm.batch');
    const lines: string[] = [];
    for (let k = 0; k < 6000; k++) lines.push('link set kwx0 up', 'link set kwx0 down');
    fs.writeFileSync(batch, lines.join('\n') + '\n');
    a.signal('SIGSTOP');
    try {
      lab.hosts.a!.exec('ip', ['-batch', batch]);
    } finally {
      a.signal('SIGCONT');
    }
    // it reads the backlog and carries on
    await waitFor(async () => (await a.instance())?.data.state === 2, 'a still MASTER after the storm', 30_000);
    expect(a.running()).toBe(true);
    expect(lab.hasAddr('a', VIP)).toBe(true);
    expect(a.log()).not.toMatch(/terminate called|Napi::Error/);
    // the event socket was found and hardened at start-up (a failure is logged as a warning)
    expect(a.log()).not.toMatch(/Netlink: netlink event socket/);
    // events after the storm still arrive: its own interface going down is a FAULT
    const mark = a.mark();
    lab.hosts.a!.ip('link', 'set', 'eth0', 'down');
    await a.waitLog(/\(VI_1\) Entering FAULT STATE/, mark, 30_000);
    lab.hosts.a!.ip('link', 'set', 'eth0', 'up');
    await a.waitState('MASTER', 'VI_1', 30_000);
    const r = await a.stop('SIGTERM', 30_000);
    expect(r.code).toBe(0);
    expect(lab.hasAddr('a', VIP)).toBe(false);
  });
});
