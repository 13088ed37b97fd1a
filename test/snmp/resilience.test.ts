/**
 * The subagent under stress with a real snmpd: ten snmpd restarts (it must come back and
 * serve every time — the keepalived#1083 / net-snmp-npm#224 failure), and 40 concurrent
 * walks (the failure net-snmp's un-framed Subagent shows: npm-feasibility.md §3).
 * Timings are printed, not asserted (beyond generous deadlines).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/events';
import { Journal } from '../../src/journal/journal';
import { startSnmp, type SnmpHandle } from '../../src/snmp';
import { waitFor } from '../helpers/netns';
import { parseWalk, snmpCmd, startSnmpd, type Snmpd } from '../helpers/snmpd';
import { referenceSnapshot } from './fixtures';

const PORT = 19221;
const KA = '.1.3.6.1.4.1.9586.100.5';

describe('AgentX resilience with a real snmpd', () => {
  let dir: string;
  let snmpd: Snmpd;
  let snmp: SnmpHandle;
  const journal = new Journal();
  const events: JournalEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kw-snmp-res-'));
    snmpd = await startSnmpd({ dir, port: PORT });
    journal.subscribe((e) => events.push(e));
    // production defaults: 50 ms → 1 s backoff, 5 s request timeout, 15 s ping
    snmp = startSnmp({ socket: `unix:${snmpd.socket}`, journal, snapshot: () => referenceSnapshot(2), enable: { vrrp: true, checker: true, rfcv2: true, rfcv3: true }, traps: false });
    await waitFor(() => snmp.status().connected, 'subagent registered', 20_000);
  });

  afterAll(async () => {
    await snmp?.stop();
    await snmpd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('comes back after each of 10 snmpd restarts', async () => {
    const rows: string[] = [];
    const afterListen: number[] = [];
    const connected = () => events.filter((e): e is Extract<JournalEvent, { type: 'snmp.agentx' }> => e.type === 'snmp.agentx' && e.connected);
    for (let i = 1; i <= 10; i++) {
      const t0 = performance.now();
      await snmpd.stop();
      // keep the master away for 0 … 1.8 s so the reconnect backoff (capped at 1 s) is exercised
      const outage = (i - 1) * 200;
      await new Promise((r) => setTimeout(r, outage));
      snmpd = await startSnmpd({ dir, port: PORT });
      await waitFor(() => snmp.status().connected && snmp.status().reconnects === i, `re-registration #${i}`, 20_000, 5);
      const ev = connected().at(-1)!;
      // the new master really serves our subtree
      const g = await snmpCmd('snmpget', ['-t', '5', '-r', '0', snmpd.target, `${KA}.1.2.0`]);
      expect(parseWalk(g.stdout)[0]?.value).toBe('"h1"');
      const sinceListen = ev.mono - snmpd.socketAt;
      afterListen.push(sinceListen);
      rows.push(`#${i}: master away ≥${outage} ms; registered ${sinceListen.toFixed(0)} ms after the new snmpd's socket appeared, ${(ev.mono - t0).toFixed(0)} ms after the kill (journal recoveryMs ${ev.recoveryMs})`);
    }
    console.log(`[snmp restart] ${rows.join('\n[snmp restart] ')}`);
    const sorted = [...afterListen].sort((a, b) => a - b);
    console.log(`[snmp restart] time from snmpd listening to re-registration: min ${sorted[0].toFixed(0)} ms, median ${sorted[5].toFixed(0)} ms, max ${sorted[9].toFixed(0)} ms`);
    expect(snmp.status().reconnects).toBe(10);
    expect(connected().map((e) => e.reconnects)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.filter((e) => e.type === 'snmp.agentx' && !e.connected).length).toBe(10);
  });

  it('40 concurrent walks all complete without a timeout', async () => {
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        snmpCmd(i % 2 ? 'snmpbulkwalk' : 'snmpwalk', ['-t', '10', '-r', '0', ...(i % 2 ? ['-Cr10'] : []), snmpd.target, i % 4 < 2 ? KA : '.1.3.6.1.2.1.207']),
      ),
    );
    const wall = performance.now() - t0;
    for (const [i, r] of runs.entries()) {
      expect(r.stderr, `walk ${i}`).not.toMatch(/Timeout/);
      expect(r.code, `walk ${i}: ${r.stderr}`).toBe(0);
      expect(parseWalk(r.stdout).length, `walk ${i}`).toBe(i % 4 < 2 ? 64 : 29);
    }
    const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`[snmp concurrency] 40 concurrent walks (20 snmpwalk + 20 snmpbulkwalk): all done in ${wall.toFixed(0)} ms; per walk median ${ms[20].toFixed(0)} ms, max ${ms[39].toFixed(0)} ms`);
  });
});
