/**
 * SNMP SET of realServerWeight on the real daemon against a real kernel IPVS (UML guest):
 * the real snmpd as AgentX master, `bin/keepwatch -n -C -x --snmp.writable` (dist/) as the
 * checker process with one virtual server and two TCP_CHECKed real servers listening in
 * their own namespaces. keepalived 2.2.7 check_snmp_realserver_weight → update_svr_wgt:
 * the kernel destination's weight changes at once (EDIT_DEST), SNMP and /metrics read it
 * back, traffic follows it, and a reload restores the configured weight (keepalived
 * set_effective_weights). Without --snmp.writable the same SET is refused (notWritable)
 * and the kernel keeps its weight.
 *
 * Run: test/ipvs/run-in-uml.sh npx vitest run test/ipvs/snmp-weight.test.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/ns-node';
import { killGroup, waitFor } from '../helpers/netns';
import { parseWalk, snmpCmd, startSnmpd, type Snmpd } from '../helpers/snmpd';
import { assertGuest, ipvsadm } from './helpers';
import { buildLvsLab, RS, VIPS, type LvsLab } from './topology';

const SNMP_PORT = 19980;
const WEB_PORT = 19981;
const VIP = VIPS[0];
const RS_ENTRY = '.1.3.6.1.4.1.9586.100.5.3.4.1';
/** realServerWeight.<virtualServerIndex>.<realServerIndex> (no sorry server: rs1 = 1, rs2 = 2) */
const WEIGHT = (rs: number) => `${RS_ENTRY}.7.1.${rs}`;
const ADDRESS = (rs: number) => `${RS_ENTRY}.4.1.${rs}`;

const conf = (socket: string) => `
global_defs {
  router_id kwt-uml
  snmp_socket unix:${socket}
}
virtual_server ${VIP} 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server ${RS.rs1} 8080 {
    weight 1
    TCP_CHECK {
      connect_timeout 3
    }
  }
  real_server ${RS.rs2} 8080 {
    weight 2
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
`;

interface Kw {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** The real binary in the guest's root namespace (the IPVS director), in its own process group. */
function startKeepwatch(dir: string, writable: boolean): Kw {
  const args = ['-n', '-l', '-D', '-C', '-x', ...(writable ? ['--snmp.writable'] : []), '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-c', join(dir, 'c.pid'), '-r', join(dir, 'v.pid'), `--web.listen-address=127.0.0.1:${WEB_PORT}`];
  const child = spawn(join(ROOT, 'bin/keepwatch'), args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    log: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** "198.51.100.11:8080 Masq 1" lines of our service, sorted. */
function dests(): string[] {
  return ipvsadm('-Ln', '-t', `${VIP}:80`)
    .split('\n')
    .filter((l) => l.startsWith('  -> ') && !l.includes('RemoteAddress'))
    .map((l) => l.slice(5).trim().split(/\s+/).slice(0, 3).join(' '))
    .sort();
}
const tableHas = (...want: string[]) => {
  try {
    const d = dests();
    return want.every((w) => d.includes(w)) && d.length === want.length;
  } catch {
    return false; // service not there yet
  }
};

describe('SNMP SET realServerWeight → IPVS (real snmpd, real keepwatch, real kernel)', () => {
  let lab: LvsLab;
  let snmpd: Snmpd;
  let dir: string;
  let kw: Kw | null = null;

  const get = async (oid: string) => parseWalk((await snmpCmd('snmpget', ['-t', '5', '-r', '0', snmpd.target, oid])).stdout)[0];
  const set = (oid: string, v: number) => snmpCmd('snmpset', ['-t', '10', '-r', '0', snmpd.target, oid, 'i', String(v)], 'private');
  const metricWeight = async (rs: string): Promise<number | undefined> => {
    const text = await (await fetch(`http://127.0.0.1:${WEB_PORT}/metrics`)).text();
    const m = new RegExp(`^keepalived_real_server_weight\\{[^}]*real_server="${rs.replace(/\./g, '\\.')}"[^}]*\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  async function start(writable: boolean): Promise<Kw> {
    writeFileSync(join(dir, 'keepalived.conf'), conf(snmpd.socket));
    const k = startKeepwatch(dir, writable);
    kw = k;
    const alive = () => {
      if (k.child.exitCode !== null) throw new Error(`keepwatch exited:\n${k.log()}`);
    };
    await waitFor(() => (alive(), tableHas(`${RS.rs1}:8080 Masq 1`, `${RS.rs2}:8080 Masq 2`)), 'both real servers in IPVS with their configured weights', 60_000, 100);
    // the subagent has registered the check tree and the rows are the two real servers, in order
    let last = '';
    await waitFor(
      async () => {
        alive();
        const r = await snmpCmd('snmpget', ['-t', '5', '-r', '0', snmpd.target, ADDRESS(2)]);
        last = r.stdout + r.stderr;
        return parseWalk(r.stdout)[0]?.value.replace(/\s/g, '') === 'C633640C';
      },
      'realServerAddress.1.2 = 198.51.100.12',
      60_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast snmpget: ${last}\nkeepwatch:\n${k.log().slice(-3000)}\nsnmpd:\n${snmpd.log.slice(-30).join('\n')}`);
    });
    expect((await get(ADDRESS(1)))?.value.replace(/\s/g, '')).toBe('C633640B'); // 198.51.100.11
    return k;
  }

  beforeAll(async () => {
    assertGuest();
    ensureBuilt(['main.js', 'daemon/daemon.js', 'lvs/service.js', 'snmp/index.js']);
    ipvsadm('-C');
    lab = await buildLvsLab();
    await lab.rs.rs1.listen(8080, 'rs1');
    await lab.rs.rs2.listen(8080, 'rs2');
    // guest tmpfs, not hostfs: the AgentX unix socket must be a guest-kernel socket
    dir = mkdtempSync('/dev/shm/kwt-snmpw-');
    snmpd = await startSnmpd({ dir, port: SNMP_PORT, agentxSocket: join(dir, 'agentx', 'master'), agentxTimeout: 10 });
  });
  afterEach(async () => {
    await kw?.stop();
    kw = null;
  });
  afterAll(async () => {
    await kw?.stop();
    await snmpd?.stop();
    lab?.destroy();
    ipvsadm('-C');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with --snmp.writable: the kernel weight follows the SET, reads back over SNMP and /metrics, traffic follows; a reload restores the configured weight', async () => {
    const k = await start(true);
    expect((await get(WEIGHT(1)))?.value).toBe('1');

    const r = await set(WEIGHT(1), 5);
    expect(r.code, r.stderr + k.log().slice(-2000)).toBe(0);
    await waitFor(() => tableHas(`${RS.rs1}:8080 Masq 5`, `${RS.rs2}:8080 Masq 2`), 'rs1 at weight 5 in IPVS', 30_000, 100);
    expect((await get(WEIGHT(1)))?.value).toBe('5');
    expect((await get(WEIGHT(2)))?.value).toBe('2');
    expect(await metricWeight(`${RS.rs1}:8080`)).toBe(5);
    // the log line of keepalived's update_svr_wgt
    expect(k.log()).toMatch(/Changing weight from 1 to 5 for service \[198\.51\.100\.11\]:8080 of VS \[192\.0\.2\.10\]:80/);

    // weight 0: still in the table, but the scheduler sends nothing new there
    expect((await set(WEIGHT(1), 0)).code).toBe(0);
    await waitFor(() => tableHas(`${RS.rs1}:8080 Masq 0`, `${RS.rs2}:8080 Masq 2`), 'rs1 at weight 0 in IPVS', 30_000, 100);
    expect(await lab.client.get(VIP, 80, 4)).toEqual(['rs2:8080', 'rs2:8080', 'rs2:8080', 'rs2:8080']);

    // out of range is refused by the agent, nothing changes
    const bad = await set(WEIGHT(1), -3);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/wrongValue/);
    expect(tableHas(`${RS.rs1}:8080 Masq 0`, `${RS.rs2}:8080 Masq 2`)).toBe(true);

    // SIGHUP with the same file: keepalived 2.2.7 set_effective_weights() → iweight again
    k.child.kill('SIGHUP');
    await waitFor(() => tableHas(`${RS.rs1}:8080 Masq 1`, `${RS.rs2}:8080 Masq 2`), 'configured weight back after reload', 30_000, 100);
    await waitFor(async () => (await get(WEIGHT(1)))?.value === '1', 'SNMP reads the configured weight', 20_000, 200);

    await k.stop();
    expect(ipvsadm('-Ln')).not.toContain(`${VIP}:80`);
  });

  it('without --snmp.writable the SET is refused (notWritable) and the kernel keeps its weight', async () => {
    const k = await start(false);
    const r = await set(WEIGHT(1), 7);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/notWritable/);
    expect((await get(WEIGHT(1)))?.value).toBe('1');
    expect(dests()).toEqual([`${RS.rs1}:8080 Masq 1`, `${RS.rs2}:8080 Masq 2`]);
    expect(await metricWeight(`${RS.rs1}:8080`)).toBe(1);
    expect(k.log()).not.toMatch(/Changing weight/);
  });
});
