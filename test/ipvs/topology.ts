/**
 * The LVS lab inside the UML guest:
 *
 *   kwtlccl (client, 192.0.2.100) --[br0 in kwtlcsw]-- kwtlc0 (director = this process's
 *   namespace: 192.0.2.1, VIPs 192.0.2.10-19/32)
 *   director kwtlr0 198.51.100.1 --[br0 in kwtlrsw]-- kwtlrrs1..3 (198.51.100.11-13)
 *
 * Each host runs one agent (agent.cjs) serving HTTP "<name>:<port>" on demand and making
 * client requests. Real servers also hold the VIPs on lo (arp_ignore/announce) for DR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { attachSelf, makeLab, sh, type Lab, type Netns } from '../helpers/netns';
import { assertGuest } from './helpers';

export const VIPS = Array.from({ length: 10 }, (_, i) => `192.0.2.${10 + i}`);
export const RS = { rs1: '198.51.100.11', rs2: '198.51.100.12', rs3: '198.51.100.13' } as const;
export type RsName = keyof typeof RS;

export class Agent {
  private next = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<unknown>;

  constructor(readonly proc: ChildProcess) {
    const rl = createInterface({ input: proc.stdout! });
    let readyResolve!: (v: unknown) => void;
    this.ready = new Promise((r) => (readyResolve = r));
    this.waiting.set(0, { resolve: readyResolve, reject: () => undefined });
    rl.on('line', (l) => {
      let m: { id: number; ok: boolean; result?: unknown; error?: string };
      try {
        m = JSON.parse(l);
      } catch {
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error));
    });
    proc.stderr?.on('data', (d) => process.stderr.write(`[agent] ${d}`));
  }

  call<T>(op: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`agent ${JSON.stringify(op)} timed out`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.proc.stdin!.write(`${JSON.stringify({ id, ...op })}\n`);
    });
  }

  listen(port: number, name: string): Promise<string> {
    return this.call({ op: 'listen', port, name });
  }
  close(port: number): Promise<string> {
    return this.call({ op: 'close', port });
  }
  /** n sequential HTTP GETs, a new connection each; bodies (or "ERR code") in order */
  get(host: string, port: number, n = 1): Promise<string[]> {
    return this.call({ op: 'get', host, port, n });
  }
  stop(): void {
    this.proc.stdin?.end();
    if (this.proc.pid) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

function startAgent(ns: Netns): Agent {
  const proc = spawn('ip', ['netns', 'exec', ns.name, process.execPath, join(__dirname, 'agent.cjs')], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Agent(proc);
}

export interface LvsLab {
  client: Agent;
  rs: Record<RsName, Agent>;
  ns: Record<'cl' | RsName, Netns>;
  destroy(): void;
}

export async function buildLvsLab(): Promise<LvsLab> {
  assertGuest();
  const labs: Lab[] = [];
  const agents: Agent[] = [];
  const destroy = () => {
    for (const a of agents) a.stop();
    for (const l of labs.reverse()) l.destroy();
  };
  try {
    const c = makeLab('lc', [{ name: 'cl', v4: ['192.0.2.100/24'] }]);
    labs.push(c);
    const r = makeLab('lr', [
      { name: 'rs1', v4: [`${RS.rs1}/24`] },
      { name: 'rs2', v4: [`${RS.rs2}/24`] },
      { name: 'rs3', v4: [`${RS.rs3}/24`] },
    ]);
    labs.push(r);
    attachSelf(c, 'kwtlc0', 'pdir', ['192.0.2.1/24', ...VIPS.map((v) => `${v}/32`)]);
    attachSelf(r, 'kwtlr0', 'pdir', ['198.51.100.1/24']);
    // The director routes between the two sides. DR replies come back through it with
    // source = VIP (our lab has no separate return path), which Linux drops as martian
    // unless accept_local is on and rp_filter off (shared/research/ipvs-kernel-lab.md).
    for (const [k, v] of [
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv4.conf.all.rp_filter', '0'],
      ['net.ipv4.conf.default.rp_filter', '0'],
      ['net.ipv4.conf.kwtlc0.rp_filter', '0'],
      ['net.ipv4.conf.kwtlr0.rp_filter', '0'],
      ['net.ipv4.conf.all.accept_local', '1'],
      ['net.ipv4.conf.kwtlr0.accept_local', '1'],
      ['net.ipv4.conf.all.send_redirects', '0'],
    ]) sh('sysctl', ['-q', '-w', `${k}=${v}`]);
    c.hosts.cl.ip('route', 'add', 'default', 'via', '192.0.2.1');
    for (const n of ['rs1', 'rs2', 'rs3'] as const) {
      const h = r.hosts[n];
      h.ip('route', 'add', 'default', 'via', '198.51.100.1');
      for (const v of VIPS) h.ip('addr', 'add', `${v}/32`, 'dev', 'lo');
      h.sysctl('net.ipv4.conf.all.arp_ignore', '1');
      h.sysctl('net.ipv4.conf.all.arp_announce', '2');
    }
    const ns = { cl: c.hosts.cl, rs1: r.hosts.rs1, rs2: r.hosts.rs2, rs3: r.hosts.rs3 };
    const client = startAgent(ns.cl);
    const rs = { rs1: startAgent(ns.rs1), rs2: startAgent(ns.rs2), rs3: startAgent(ns.rs3) };
    agents.push(client, rs.rs1, rs.rs2, rs.rs3);
    await Promise.all(agents.map((a) => a.ready));
    return { client, rs, ns, destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}
