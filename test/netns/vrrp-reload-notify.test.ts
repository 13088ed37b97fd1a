/**
 * SIGHUP reload and notifications of the real keepwatch daemon in namespaces, against
 * keepalived 2.2.7 (shared/research/keepalived-features.md §3.14, §7.1, §7.2):
 *  - reload with the instance unchanged while MASTER: no VIP flap (no RTM_DELADDR seen by
 *    `ip monitor address`), state and counters kept, no notify re-sent;
 *  - reload adding an instance starts it, the running one is untouched;
 *  - a broken new config is refused, the running one stays;
 *  - notify_master/backup/fault/stop, the generic `notify` (INSTANCE "VI_1" STATE prio) and
 *    notify_fifo lines, in order, through a whole life: start, FAULT, recovery, stop.
 *
 * Lab "vd": a (192.0.2.11), b (192.0.2.12). VRRPv3 at 100 ms.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/netns';
import { FifoReader, instanceBlock, monitorAddresses, vrrpConf, vrrpLab, type KwNode, type LineProc, type VrrpLab } from '../helpers/agent';

const VIP1 = '192.0.2.50/24';
const VIP2 = '192.0.2.60/24';

describe('keepwatch reload and notify in namespaces', () => {
  let lab: VrrpLab;
  const dirs: string[] = [];
  const mkdir = (tag: string): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `kwv-vd-${tag}-`));
    dirs.push(d);
    return d;
  };

  beforeAll(() => {
    lab = vrrpLab('vd', ['a', 'b'], false);
  });

  afterAll(async () => {
    await lab?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('SIGHUP', () => {
    let a: KwNode;
    let b: KwNode;
    let mon: LineProc;
    let fifo: FifoReader;
    let confA: string;

    beforeAll(async () => {
      const dir = mkdir('a');
      // made by the operator beforehand: keepalived keeps (does not unlink) a FIFO it did not
      // create, so this reader stays attached across reloads
      const fifoPath = path.join(dir, 'notify.fifo');
      execFileSync('mkfifo', ['-m', '0600', fifoPath]);
      confA = vrrpConf('a', instanceBlock({ priority: 150 })).replace('    enable_script_security\n', `    enable_script_security\n    notify_fifo ${fifoPath}\n`);
      a = await lab.start('a', confA, { dir });
      b = await lab.start('b', vrrpConf('b', instanceBlock({ priority: 100 })));
      fifo = new FifoReader(fifoPath);
      await fifo.open();
      await a.waitState('MASTER');
      await b.waitState('BACKUP');
      await waitFor(() => fifo.read().includes('INSTANCE "VI_1" MASTER 150'), 'FIFO MASTER line');
      mon = await monitorAddresses(lab.hosts.a!);
    });

    afterAll(() => {
      mon?.stop();
      fifo?.close();
    });

    const deletesOf = (cidr: string) => mon.lines.filter((l) => l.startsWith('Deleted') && l.includes(`inet ${cidr}`));

    it('unchanged instance while MASTER: no VIP flap, state and counters kept, nothing re-notified', async () => {
      const before = (await a.instance())!;
      expect(before.data.state).toBe(2);
      const fifoBefore = fifo.read().length;
      const mark = a.mark();
      a.hup();
      await a.waitLog(/^Reload finished \(.*: 0 added, 0 removed, 0 changed\)$/, mark);
      // keep watching for 15 more adverts after the reload
      await waitFor(async () => (await a.instance())!.stats.advert_sent >= before.stats.advert_sent + 15, 'adverts after reload');
      const after = (await a.instance())!;
      expect(after.data.state).toBe(2);
      expect(after.stats.become_master).toBe(before.stats.become_master);
      expect(after.stats.release_master).toBe(before.stats.release_master);
      expect(after.stats.advert_sent).toBeGreaterThan(before.stats.advert_sent);
      expect(deletesOf(VIP1)).toEqual([]);
      expect(lab.hasAddr('a', VIP1)).toBe(true);
      expect(a.lines().slice(mark).filter((l) => /Entering|removing VIPs|setting VIPs/.test(l))).toEqual([]);
      // keepalived: states are not re-sent to FIFOs on reload (fifo_write_vrrp_states_on_reload off)
      expect(fifo.read().slice(fifoBefore)).toEqual([]);
      expect((await b.instance())!.data.state).toBe(1);
    });

    it('a reload adding an instance starts it; the running one is untouched', async () => {
      const before = (await a.instance())!;
      const fifoBefore = fifo.read().length;
      const mark = a.mark();
      a.writeConfig(confA + '\n' + instanceBlock({ name: 'VI_2', vrid: 52, priority: 150, vips: [`${VIP2} dev eth0`] }) + '\n');
      a.hup();
      await a.waitLog(/^Reload finished \(.*: 1 added, 0 removed, 0 changed\)$/, mark);
      await a.waitState('MASTER', 'VI_2');
      await waitFor(() => lab.hasAddr('a', VIP2), 'VI_2 VIP on a');
      const vi1 = (await a.instance('VI_1'))!;
      expect(vi1.data.state).toBe(2);
      expect(vi1.stats.become_master).toBe(before.stats.become_master);
      expect(vi1.stats.advert_sent).toBeGreaterThan(before.stats.advert_sent);
      expect(deletesOf(VIP1)).toEqual([]);
      await waitFor(() => fifo.read().includes('INSTANCE "VI_2" MASTER 150'), 'FIFO line of the new instance');
      expect(fifo.read().slice(fifoBefore).filter((l) => l.includes('"VI_1"'))).toEqual([]);
    });

    it('a broken new config is refused and the running one stays', async () => {
      const before = (await a.json()).map((i) => i.stats.advert_sent);
      const mark = a.mark();
      // a keyword without its parameter: keepalived cannot run this ("missing a parameter")
      a.writeConfig(confA.replace('virtual_router_id 51', 'virtual_router_id'));
      a.hup();
      await a.waitLog(/^Reload of .* failed.* - keeping the running configuration$/, mark);
      await waitFor(async () => (await a.json()).every((i, k) => i.stats.advert_sent >= before[k]! + 10), 'adverts after the refused reload');
      const now = await a.json();
      expect(now.map((i) => [i.data.iname, i.data.state])).toEqual([
        ['VI_1', 2],
        ['VI_2', 2],
      ]);
      expect(lab.hasAddr('a', VIP1) && lab.hasAddr('a', VIP2)).toBe(true);
      expect(deletesOf(VIP1)).toEqual([]);
      expect(deletesOf(VIP2)).toEqual([]);
      expect(a.running()).toBe(true);
    });

    it('a reload removing an instance stops it and releases its VIP; the other is untouched', async () => {
      const mark = a.mark();
      a.writeConfig(confA);
      a.hup();
      await a.waitLog(/^Reload finished \(.*: 0 added, 1 removed, 0 changed\)$/, mark);
      await waitFor(() => !lab.hasAddr('a', VIP2), 'VI_2 VIP removed');
      await waitFor(async () => (await a.json()).length === 1, 'VI_2 gone from /json');
      // keepalived 2.2.7 (vrrp.c clear_diff_vrrp): a deleted instance notifies FAULT unless notify_deleted
      await waitFor(() => fifo.read().includes('INSTANCE "VI_2" FAULT 150'), 'FIFO FAULT line of the removed instance');
      expect(deletesOf(VIP1)).toEqual([]);
      expect((await a.instance('VI_1'))!.data.state).toBe(2);
    });

    it('a reload lowering the master\'s priority below the peer\'s hands over; raising it takes over again', async () => {
      const mark = a.mark();
      const mb = b.mark();
      a.writeConfig(confA.replace('priority 150', 'priority 90'));
      a.hup();
      await a.waitLog(/^Reload finished \(.*: 0 added, 0 removed, 1 changed\)$/, mark);
      await b.waitState('MASTER');
      await a.waitState('BACKUP');
      await b.waitLog(/\(VI_1\) received lower priority \(90\) advert from 192\.0\.2\.11 - discarding/, mb);
      expect((await a.instance('VI_1'))!.data).toMatchObject({ base_priority: 90, effective_priority: 90 });
      await waitFor(() => lab.hasAddr('b', VIP1) && !lab.hasAddr('a', VIP1), 'VI_1 VIP moved to b');
      const m2 = a.mark();
      a.writeConfig(confA);
      a.hup();
      await a.waitLog(/^Reload finished \(.*: 0 added, 0 removed, 1 changed\)$/, m2);
      await a.waitState('MASTER');
      await b.waitState('BACKUP');
      await waitFor(() => lab.hasAddr('a', VIP1) && !lab.hasAddr('b', VIP1), 'VI_1 VIP back on a');
    });
  });

  it('notify scripts and notify_fifo get the right lines in order through start, FAULT, recovery and stop', async () => {
    await lab.stopAll();
    const dir = mkdir('n');
    const out = path.join(dir, 'notify.out');
    const fifoPath = path.join(dir, 'notify.fifo');
    const state = path.join(dir, 'state.sh');
    const generic = path.join(dir, 'notify.sh');
    const fifoScript = path.join(dir, 'fifo.sh');
    const fifoOut = path.join(dir, 'fifo.out');
    // each script appends its arguments to one file, so the order across scripts shows
    fs.writeFileSync(state, `#!/bin/sh\necho "state $*" >> ${out}\n`, { mode: 0o755 });
    fs.writeFileSync(generic, `#!/bin/sh\necho "notify $*" >> ${out}\n`, { mode: 0o755 });
    // keepalived doc/samples/sample_notify_fifo.sh style consumer: the FIFO path is its last argument
    fs.writeFileSync(fifoScript, `#!/bin/sh\nwhile read -r line; do echo "$line" >> ${fifoOut}; done < "$1"\n`, { mode: 0o755 });
    const conf = vrrpConf(
      'a',
      instanceBlock({
        priority: 150,
        extra: [`notify_master "${state} master"`, `notify_backup "${state} backup"`, `notify_fault "${state} fault"`, `notify_stop "${state} stop"`, `notify ${generic}`],
      }),
    ).replace('    enable_script_security\n', `    enable_script_security\n    notify_fifo ${fifoPath}\n    notify_fifo_script ${fifoScript}\n`);
    const a = await lab.start('a', conf, { dir });
    const b = await lab.start('b', vrrpConf('b', instanceBlock({ priority: 100 })));
    {
      const fileLines = (f: string): string[] => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
      const outLines = (): string[] => fileLines(out);
      const expectOut = (...want: string[]) => waitFor(() => JSON.stringify(outLines()) === JSON.stringify(want) && want, `notify output ${JSON.stringify(want)}; have ${JSON.stringify(outLines())}`);
      const expectFifo = (...want: string[]) => waitFor(() => JSON.stringify(fileLines(fifoOut)) === JSON.stringify(want) && want, `FIFO lines ${JSON.stringify(want)}; have ${JSON.stringify(fileLines(fifoOut))}`);

      await a.waitState('MASTER');
      await b.waitState('BACKUP');
      const life = [
        ['backup', 'BACKUP'],
        ['master', 'MASTER'],
      ];
      await expectOut(...life.flatMap(([s, S]) => [`state ${s}`, `notify INSTANCE VI_1 ${S} 150`]));
      await expectFifo(...life.map(([, S]) => `INSTANCE "VI_1" ${S} 150`));

      lab.hosts.a!.ip('link', 'set', 'eth0', 'down');
      await a.waitState('FAULT');
      life.push(['fault', 'FAULT']);
      await expectOut(...life.flatMap(([s, S]) => [`state ${s}`, `notify INSTANCE VI_1 ${S} 150`]));
      lab.hosts.a!.ip('link', 'set', 'eth0', 'up');
      await a.waitState('MASTER');
      life.push(['backup', 'BACKUP'], ['master', 'MASTER']);
      await expectOut(...life.flatMap(([s, S]) => [`state ${s}`, `notify INSTANCE VI_1 ${S} 150`]));
      await expectFifo(...life.map(([, S]) => `INSTANCE "VI_1" ${S} 150`));

      await a.stop();
      life.push(['stop', 'STOP']);
      await expectOut(...life.flatMap(([s, S]) => [`state ${s}`, `notify INSTANCE VI_1 ${S} 150`]));
      await expectFifo(...life.map(([, S]) => `INSTANCE "VI_1" ${S} 150`));
      // keepalived fifo_close: the FIFO it created is removed on exit (the script saw EOF)
      expect(fs.existsSync(fifoPath)).toBe(false);
    }
  });
});
