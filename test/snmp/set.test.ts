/**
 * SNMP SET through a real snmpd (AgentX TestSet/CommitSet/CleanupSet): the objects keepalived
 * lets a manager write (vrrpInstanceBasePriority, vrrpInstancePreempt, realServerWeight) reach
 * the engine through the `writable` callbacks — and only when those are given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal';
import type { AgentSnapshot } from '../../src/state/snapshot';
import { startSnmp, type SnmpHandle } from '../../src/snmp';
import { waitFor } from '../helpers/netns';
import { parseWalk, snmpCmd, startSnmpd, type Snmpd } from '../helpers/snmpd';
import { referenceSnapshot } from './fixtures';

const PORT = 19231;
const PRIO = '.1.3.6.1.4.1.9586.100.5.2.3.1.7.1';
const PREEMPT = '.1.3.6.1.4.1.9586.100.5.2.3.1.13.1';
const WEIGHT = '.1.3.6.1.4.1.9586.100.5.3.4.1.7.1.1';

describe('SNMP SET via snmpd', () => {
  let dir: string;
  let snmpd: Snmpd;
  let snmp: SnmpHandle | undefined;
  let current: AgentSnapshot;
  const calls: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kw-snmp-set-'));
    snmpd = await startSnmpd({ dir, port: PORT });
  });

  afterAll(async () => {
    await snmp?.stop();
    await snmpd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function run(writable: boolean) {
    await snmp?.stop();
    current = referenceSnapshot(2, {
      virtualServers: [{
        name: '192.0.2.80:80', protocol: 'tcp', scheduler: 'wrr', forwarding: 'nat', quorum: 1, quorumMet: true, sorryActive: false,
        realServers: [{ address: '198.51.100.1:80', up: true, weight: 1, configuredWeight: 1, failedChecks: 0, checkers: [] }],
      }],
    });
    snmp = startSnmp({
      socket: `unix:${snmpd.socket}`,
      journal: new Journal(),
      snapshot: () => current,
      enable: { vrrp: true, checker: true },
      traps: false,
      writable: writable
        ? {
            setBasePriority: (i, p) => {
              calls.push(`priority ${i} ${p}`);
              current.instances[0] = { ...current.instances[0], base_priority: p, effective_priority: p };
              return { ok: true };
            },
            setPreempt: (i, p) => (calls.push(`preempt ${i} ${p}`), { ok: true }),
            setRealServerWeight: (vs, rs, w) => (calls.push(`weight ${vs} ${rs} ${w}`), { ok: true }),
          }
        : undefined,
    });
    await waitFor(() => snmp!.status().connected, 'subagent registered', 20_000);
  }

  const set = (...args: string[]) => snmpCmd('snmpset', ['-t', '5', '-r', '0', snmpd.target, ...args], 'private');

  it('without `writable` every object is read-only (notWritable)', async () => {
    await run(false);
    const r = await set(PRIO, 'i', '120');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/notWritable/);
    expect(calls).toEqual([]);
  });

  it('with `writable`: base priority, preempt and real-server weight reach the callbacks', async () => {
    await run(true);
    const r = await set(PRIO, 'i', '120', PREEMPT, 'i', '2', WEIGHT, 'i', '7');
    expect(r.code, r.stderr).toBe(0);
    expect(calls).toEqual(['priority VI_1 120', 'preempt VI_1 false', 'weight 192.0.2.80:80 198.51.100.1:80 7']);
    const g = await snmpCmd('snmpget', ['-t', '5', '-r', '0', snmpd.target, PRIO]);
    expect(parseWalk(g.stdout)[0].value).toBe('120');
  });

  it('refuses bad writes with the SNMP error keepalived gives, without calling back', async () => {
    calls.length = 0;
    expect((await set(PRIO, 'i', '0')).stderr).toMatch(/wrongValue/);
    expect((await set(PRIO, 's', 'high')).stderr).toMatch(/wrongType/);
    expect((await set(PREEMPT, 'i', '3')).stderr).toMatch(/wrongValue/);
    expect((await set('.1.3.6.1.4.1.9586.100.5.2.3.1.4.1', 'i', '2')).stderr).toMatch(/notWritable/);
    expect((await set('.1.3.6.1.4.1.9586.100.5.2.3.1.7.5', 'i', '100')).stderr).toMatch(/noCreation/);
    expect(calls).toEqual([]);
  });
});
