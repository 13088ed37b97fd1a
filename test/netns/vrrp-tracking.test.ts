/**
 * Priority tracking and preemption rules of the real keepwatch daemon in namespaces
 * (keepalived 2.2.7 behaviour: shared/research/keepalived-features.md §3.7–3.9,
 * RESULTS.md §6.4–6.5):
 *  - vrrp_script weight −60, rise/fall 2, testing a file: priority drops, the peer takes
 *    over, recovery preempts back;
 *  - nopreempt: a returning higher-priority node stays BACKUP;
 *  - preempt_delay: a returning higher-priority node waits the delay before preempting;
 *  - sync group: two instances fail over together when one's tracked interface or
 *    tracked (weight 0) script fails, and come back together.
 *
 * Lab "vb": a (192.0.2.11) and b (192.0.2.12), no client needed. VRRPv3 at 100 ms.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { FifoReader, instanceBlock, vrrpConf, vrrpLab, type KwNode, type VrrpLab } from '../helpers/agent';

const VIP1 = '192.0.2.50/24';
const VIP2 = '192.0.2.60/24';

describe('keepwatch tracking and preemption in namespaces', () => {
  let lab: VrrpLab;
  const dirs: string[] = [];
  const mkdir = (tag: string): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `kwv-vb-${tag}-`));
    dirs.push(d);
    return d;
  };
  const stopAll = (): Promise<void> => lab.stopAll();
  const start = (host: string, conf: string, dir?: string): Promise<KwNode> => lab.start(host, conf, { dir: dir ?? mkdir(host) });

  beforeAll(() => {
    lab = vrrpLab('vb', ['a', 'b'], false);
  });

  afterAll(async () => {
    await lab?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('vrrp_script weight -60: priority drops to 90, the peer takes over; recovery preempts back', async () => {
    const dir = mkdir('a');
    const healthy = path.join(dir, 'healthy');
    fs.writeFileSync(healthy, '');
    const script = [`vrrp_script chk_file {`, `    script "/usr/bin/test -e ${healthy}"`, `    interval 1`, `    weight -60`, `    rise 2`, `    fall 2`, `}`].join('\n');
    const a = await start('a', vrrpConf('a', script, instanceBlock({ state: 'MASTER', priority: 150, extra: ['track_script {', '    chk_file', '}'] })), dir);
    const b = await start('b', vrrpConf('b', instanceBlock({ priority: 100 })));
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await a.waitLog(/VRRP_Script\(chk_file\) succeeded/);
    expect((await a.instance())!.data.effective_priority).toBe(150);

    const ma = a.mark();
    const mb = b.mark();
    fs.rmSync(healthy);
    await a.waitLog(/VRRP_Script\(chk_file\) failed/, ma);
    await a.waitLog(/\(VI_1\) Changing effective priority from 150 to 90/, ma);
    await b.waitState('MASTER');
    await a.waitState('BACKUP');
    // RESULTS.md §6.4: the backup discards the lower-priority adverts and takes over after its down timer
    await b.waitLog(/\(VI_1\) received lower priority \(90\) advert from 192\.0\.2\.11 - discarding/, mb);
    await waitFor(() => lab.hasAddr('b', VIP1) && !lab.hasAddr('a', VIP1), 'VIP moved to b');
    const ia = (await a.instance())!;
    expect(ia.data).toMatchObject({ base_priority: 150, effective_priority: 90 });

    const ma2 = a.mark();
    fs.writeFileSync(healthy, '');
    await a.waitLog(/VRRP_Script\(chk_file\) succeeded/, ma2);
    await a.waitLog(/\(VI_1\) Changing effective priority from 90 to 150/, ma2);
    await a.waitState('MASTER');
    await b.waitState('BACKUP');
    await waitFor(() => lab.hasAddr('a', VIP1) && !lab.hasAddr('b', VIP1), 'VIP back on a');
    await stopAll();
  });

  it('nopreempt: the returning higher-priority node stays BACKUP while the master lives', async () => {
    const b = await start('b', vrrpConf('b', instanceBlock({ priority: 100, extra: ['nopreempt'] })));
    await b.waitState('MASTER');
    const a = await start('a', vrrpConf('a', instanceBlock({ priority: 150, extra: ['nopreempt'] })));
    await a.waitState('BACKUP');
    // with preemption a would take over after one Master_Down_Interval (~0.34 s, ~4 adverts);
    // let it hear 15 of b's adverts and check it never did
    await waitFor(async () => (await a.instance())!.stats.advert_rcvd >= 15, 'a hearing 15 adverts from b', 30_000);
    const ia = (await a.instance())!;
    expect(ia.data.state).toBe(1);
    expect(ia.stats.become_master).toBe(0);
    expect(a.lines().some((l) => /discarding/.test(l))).toBe(false);
    expect((await b.instance())!.data.state).toBe(2);
    expect(lab.hasAddr('b', VIP1) && !lab.hasAddr('a', VIP1)).toBe(true);
    // when the master goes away the nopreempt node does take over
    await b.stop();
    await a.waitState('MASTER');
    await waitFor(() => lab.hasAddr('a', VIP1), 'VIP on a');
    await stopAll();
  });

  it('preempt_delay: the returning higher-priority node preempts only after the delay', async () => {
    const b = await start('b', vrrpConf('b', instanceBlock({ priority: 100 })));
    await b.waitState('MASTER');
    const a = await start('a', vrrpConf('a', instanceBlock({ priority: 150, extra: ['preempt_delay 1'] })));
    const ib = await a.waitState('BACKUP');
    expect(ib.data.preempt_delay).toBe(1);
    const ma = a.mark();
    const im = await a.waitState('MASTER');
    await b.waitState('BACKUP');
    // keepalived preempt_time: b's lower-priority adverts are accepted for 1 s after the first
    // one, then discarded, then the down timer runs out: MASTER ≥ 1 s + MDI after BACKUP
    // (without the delay: one MDI, 0.34 s). The daemon's own transition times, so test-side
    // polling cannot distort the bound, and a timer never fires early.
    expect(im.data.last_transition as number).toBeGreaterThanOrEqual((ib.data.last_transition as number) + 1);
    const after = a.lines().slice(ma);
    const disc = after.findIndex((l) => /\(VI_1\) received lower priority \(100\) advert from 192\.0\.2\.12 - discarding/.test(l));
    expect(disc).toBeGreaterThanOrEqual(0);
    expect(after.findIndex((l) => l === '(VI_1) Entering MASTER STATE')).toBeGreaterThan(disc);
    await waitFor(() => lab.hasAddr('a', VIP1) && !lab.hasAddr('b', VIP1), 'VIP on a only');
    await stopAll();
  });

  describe('sync group', () => {
    let a: KwNode;
    let b: KwNode;
    let healthy: string;
    let fifo: FifoReader;

    const group = (extraA: string[], extraB: string[]) => [
      `vrrp_sync_group G1 {`,
      `    group {`,
      `        VI_1`,
      `        VI_2`,
      `    }`,
      `}`,
      instanceBlock({ name: 'VI_1', vrid: 51, priority: 0, vips: [`${VIP1} dev eth0`], extra: extraA }),
      instanceBlock({ name: 'VI_2', vrid: 52, priority: 0, vips: [`${VIP2} dev eth0`], extra: extraB }),
    ];

    beforeAll(async () => {
      // a tracked interface of its own inside node a (no dummy module: a veth pair)
      lab.hosts.a!.ip('link', 'add', 'trk0', 'type', 'veth', 'peer', 'name', 'trk1');
      lab.hosts.a!.ip('link', 'set', 'trk1', 'up');
      lab.hosts.a!.ip('link', 'set', 'trk0', 'up');
      const dir = mkdir('a');
      healthy = path.join(dir, 'healthy');
      fs.writeFileSync(healthy, '');
      const script = [`vrrp_script chk_up {`, `    script "/usr/bin/test -e ${healthy}"`, `    interval 1`, `    weight 0`, `    rise 1`, `    fall 1`, `}`].join('\n');
      const fifoPath = path.join(dir, 'notify.fifo');
      execFileSync('mkfifo', ['-m', '0600', fifoPath]);
      fifo = new FifoReader(fifoPath);
      const confA = vrrpConf('a', script, ...group(['track_interface {', '    trk0', '}'], ['track_script {', '    chk_up', '}']))
        .replace(/priority 0/g, 'priority 150')
        .replace('    enable_script_security\n', `    enable_script_security\n    notify_fifo ${fifoPath}\n`);
      const confB = vrrpConf('b', ...group([], [])).replace(/priority 0/g, 'priority 100');
      a = await start('a', confA, dir);
      b = await start('b', confB);
      await fifo.open();
    });

    afterAll(() => fifo?.close());

    async function aMasterOfBoth(): Promise<void> {
      for (const n of ['VI_1', 'VI_2']) {
        await a.waitState('MASTER', n);
        await b.waitState('BACKUP', n);
      }
      await waitFor(() => lab.hasAddr('a', VIP1) && lab.hasAddr('a', VIP2) && !lab.hasAddr('b', VIP1) && !lab.hasAddr('b', VIP2), 'both VIPs on a only');
    }

    async function bMasterOfBoth(): Promise<void> {
      for (const n of ['VI_1', 'VI_2']) {
        await a.waitState('FAULT', n);
        await b.waitState('MASTER', n);
      }
      await waitFor(() => lab.hasAddr('b', VIP1) && lab.hasAddr('b', VIP2) && !lab.hasAddr('a', VIP1) && !lab.hasAddr('a', VIP2), 'both VIPs on b only');
    }

    it('both instances become MASTER together on the higher-priority node', async () => {
      await aMasterOfBoth();
      await a.waitLog(/^VRRP_Group\(G1\) Syncing instances to MASTER state$/);
    });

    it("VI_1's tracked interface goes down: both instances go FAULT and fail over; up: both come back", async () => {
      await aMasterOfBoth();
      const ma = a.mark();
      const mb = b.mark();
      lab.hosts.a!.ip('link', 'set', 'trk0', 'down');
      await bMasterOfBoth();
      await a.waitLog(/Netlink reports trk0 down/, ma);
      // a MASTER going to FAULT with its own link still up says goodbye with priority 0
      // (keepalived vrrp_state_leave_master → vrrp_restore_interface(advF))
      for (const n of ['VI_1', 'VI_2']) await b.waitLog(new RegExp(`^\\(${n}\\) Backup received priority 0 advertisement$`), mb);
      lab.hosts.a!.ip('link', 'set', 'trk0', 'up');
      await aMasterOfBoth();
    });

    it("VI_2's tracked script fails: both instances fail over; recovery brings both back", async () => {
      await aMasterOfBoth();
      const ma = a.mark();
      fs.rmSync(healthy);
      await a.waitLog(/VRRP_Script\(chk_up\) failed/, ma);
      await bMasterOfBoth();
      fs.writeFileSync(healthy, '');
      await a.waitLog(/VRRP_Script\(chk_up\) succeeded/, ma);
      await aMasterOfBoth();
      // notify_fifo through the three lives: members first, then the group with priority 0
      // (keepalived vrrp_notify.c send_instance_notifies / send_group_notifies)
      const lines = (st: string) => [`INSTANCE "VI_1" ${st} 150`, `INSTANCE "VI_2" ${st} 150`, `GROUP "G1" ${st} 0`];
      const want = ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER'].flatMap(lines);
      // A MASTER that hears a lower-priority advert writes "INSTANCE … MASTER_RX_LOWER_PRI"
      // (keepalived's event of that name): when a preempts b back, b's advert already on the
      // wire may reach a after a became MASTER — a race of the protocol, not of the test.
      // The state lines keep their exact order; such a line may only name a MASTER of a.
      const states = () => fifo.read().filter((l) => !/ MASTER_RX_LOWER_PRI /.test(l));
      await waitFor(() => states().length >= want.length, 'FIFO lines');
      expect(states()).toEqual(want);
      for (const l of fifo.read().filter((x) => / MASTER_RX_LOWER_PRI /.test(x))) expect(l).toMatch(/^INSTANCE "VI_[12]" MASTER_RX_LOWER_PRI 150$/);
    });
  });
});
