/**
 * Writable KEEPALIVED-MIB objects on the real daemon: keepalived lets an SNMP manager SET
 * vrrpInstanceBasePriority and vrrpInstancePreempt (vrrp_snmp_instance_priority /
 * _preempt); keepwatch allows it only with --snmp.writable. Two agents (kwtra, kwtrb), each
 * with its own snmpd (rwcommunity private); lowering the master's base priority over SNMP
 * hands mastership to the peer; without the flag the same SET is refused (notWritable)
 * and nothing changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceBlock, startKeepwatch, vrrpConf, type KwNode } from '../helpers/agent';
import { makeLab, waitFor, type Lab } from '../helpers/netns';
import { snmpCmdIn, startSnmpdWithConfig, type Snmpd } from '../helpers/snmpd';

const WEB = 19270;
const KA_INST = '.1.3.6.1.4.1.9586.100.5.2.3.1';
const BASE_PRIO = `${KA_INST}.7.1`; // vrrpInstanceBasePriority, first instance
const PREEMPT = `${KA_INST}.13.1`; // vrrpInstancePreempt

function snmpdConf(socket: string, port: number): string {
  return ['master agentx', `agentXSocket unix:${socket}`, 'agentXPerms 0660 0770', `agentAddress udp:127.0.0.1:${port}`, 'rocommunity public 127.0.0.1', 'rwcommunity private 127.0.0.1', ''].join('\n');
}

describe('SNMP SET of base priority and preempt (real keepwatch -x, real snmpd)', () => {
  let lab: Lab;
  const nodes: KwNode[] = [];
  const snmpds: Snmpd[] = [];
  const dirs: string[] = [];

  async function node(name: 'a' | 'b', prio: number, writable: boolean): Promise<{ kw: KwNode; snmpd: Snmpd; target: string }> {
    const dir = mkdtempSync(join(tmpdir(), `kw-snmpw-${name}-`));
    dirs.push(dir);
    const socket = join(dir, 'agentx', 'master');
    const port = 19271 + (name === 'a' ? 0 : 1);
    const target = `127.0.0.1:${port}`;
    const snmpd = await startSnmpdWithConfig({ dir, config: snmpdConf(socket, port), socket, target, netns: lab.hosts[name]!.name });
    snmpds.push(snmpd);
    const conf = vrrpConf(`r${name}`, `global_defs {\n    snmp_socket unix:${socket}\n}`, instanceBlock({ priority: prio, state: 'BACKUP' }));
    const kw = await startKeepwatch(lab.hosts[name]!, conf, { id: `r${name}`, port: WEB, args: ['-x', ...(writable ? ['--snmp.writable'] : [])] });
    nodes.push(kw);
    return { kw, snmpd, target };
  }

  beforeAll(() => {
    lab = makeLab('r', [
      { name: 'a', v4: ['192.0.2.11/24'] },
      { name: 'b', v4: ['192.0.2.12/24'] },
    ]);
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    for (const s of snmpds) await s.stop().catch(() => undefined);
    lab?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses SETs without --snmp.writable, applies them with it (mastership moves, state and counters kept)', async () => {
    const a = await node('a', 150, true);
    const b = await node('b', 100, false);
    await waitFor(async () => (await a.kw.instance('VI_1'))?.data.state === 2 && (await b.kw.instance('VI_1'))?.data.state === 1, 'a MASTER, b BACKUP', 30_000);
    await waitFor(async () => (await snmpCmdIn(lab.hosts.a!.name, 'snmpget', ['-On', a.target, BASE_PRIO])).stdout.includes('INTEGER: 150'), 'a row in SNMP', 20_000);
    await waitFor(async () => (await snmpCmdIn(lab.hosts.b!.name, 'snmpget', ['-On', b.target, BASE_PRIO])).stdout.includes('INTEGER: 100'), 'b row in SNMP', 20_000);

    // b was started without --snmp.writable: refused, nothing changes
    const refused = await snmpCmdIn(lab.hosts.b!.name, 'snmpset', ['-On', b.target, BASE_PRIO, 'i', '200'], 'private');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/notWritable|noAccess|Not writable/i);
    expect((await b.kw.instance('VI_1'))?.data.base_priority).toBe(100);

    // a allows it: lower its base priority below b's → b takes over (a hears higher priority)
    const sentBefore = (await a.kw.instance('VI_1'))!.stats.advert_sent;
    const ok = await snmpCmdIn(lab.hosts.a!.name, 'snmpset', ['-On', a.target, BASE_PRIO, 'i', '50'], 'private');
    expect(ok.code, ok.stderr).toBe(0);
    await waitFor(async () => (await b.kw.instance('VI_1'))?.data.state === 2 && (await a.kw.instance('VI_1'))?.data.state === 1, 'b MASTER after the SET', 30_000);
    const ai = (await a.kw.instance('VI_1'))!;
    expect(ai.data.base_priority).toBe(50);
    expect(ai.stats.advert_sent).toBeGreaterThanOrEqual(sentBefore); // counters kept (no restart of the instance)
    expect((await snmpCmdIn(lab.hosts.a!.name, 'snmpget', ['-On', a.target, BASE_PRIO])).stdout).toContain('INTEGER: 50');

    // out of range is refused by the agent
    const bad = await snmpCmdIn(lab.hosts.a!.name, 'snmpset', ['-On', a.target, BASE_PRIO, 'i', '300'], 'private');
    expect(bad.code).not.toBe(0);

    // preempt off (TruthValue false = 2), then raise priority again: a stays BACKUP
    expect((await snmpCmdIn(lab.hosts.a!.name, 'snmpset', ['-On', a.target, PREEMPT, 'i', '2'], 'private')).code).toBe(0);
    expect((await snmpCmdIn(lab.hosts.a!.name, 'snmpset', ['-On', a.target, BASE_PRIO, 'i', '150'], 'private')).code).toBe(0);
    await waitFor(async () => (await a.kw.instance('VI_1'))?.data.base_priority === 150, 'priority 150 applied', 20_000);
    const adv = (await a.kw.instance('VI_1'))!.stats.advert_rcvd;
    await waitFor(async () => (await a.kw.instance('VI_1'))!.stats.advert_rcvd >= adv + 10, 'ten more adverts heard', 20_000);
    expect((await a.kw.instance('VI_1'))?.data.state).toBe(1);
    expect((await a.kw.instance('VI_1'))?.data.nopreempt).toBe(true);
  });
});
