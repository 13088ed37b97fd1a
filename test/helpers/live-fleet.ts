/**
 * Real keepwatch agents for the live Prometheus tests: one daemon per lab namespace, all
 * members of one VRRP instance (VI_1, VRID 51, VIP 192.0.2.50, VRRPv3 at 100 ms), each
 * serving /metrics on 0.0.0.0:<port> of its own namespace so a scraper on the lab bridge
 * reaches it at <bridge address>:<port> (and agent.ts' /json helpers still reach it on
 * 127.0.0.1).
 *
 * It is the real-agent counterpart of test/alerts/fake-agent.ts' FakeFleet: same
 * `targets` / `instanceOf` / `stop` (LiveFleet), but real agents pick their VRRP state
 * themselves, so instead of `setState` the test acts on them the way an operator or a
 * network fault would: stop / restart an agent, isolate switch ports.
 */
import { instanceBlock, startKeepwatch, STATE_NUM, type KwNode, type StateName } from './agent';
import { waitFor, type Lab } from './netns';
import type { LiveFleet } from '../alerts/fake-agent';

export interface LiveAgentSpec {
  /** lab host name (namespace kwt<lab id><host>, switch port p<host>) */
  host: string;
  /** the host's bridge address (what Prometheus scrapes) */
  addr: string;
  priority: number;
  /** extra global_defs lines (e.g. SNMP) */
  globalDefs?: string[];
}

export function liveAgentConfig(spec: LiveAgentSpec): string {
  return [
    'global_defs {',
    `    router_id kw-${spec.host}`,
    ...(spec.globalDefs ?? []).map((l) => `    ${l}`),
    '}',
    '',
    // every member starts BACKUP: the highest priority wins the election (RFC 5798 §6.4.1)
    instanceBlock({ priority: spec.priority, state: 'BACKUP' }),
    '',
  ].join('\n');
}

export class LiveAgentFleet implements Omit<LiveFleet, 'setState'> {
  readonly nodes: Array<KwNode | undefined>;

  constructor(
    readonly lab: Lab,
    readonly specs: LiveAgentSpec[],
    readonly port: number,
  ) {
    this.nodes = specs.map(() => undefined);
  }

  get targets(): string[] {
    return this.specs.map((s) => `${s.addr}:${this.port}`);
  }

  instanceOf(host: number): string {
    return this.targets[host]!;
  }

  node(host: number): KwNode {
    const n = this.nodes[host];
    if (!n) throw new Error(`agent ${this.specs[host]!.host} is not running`);
    return n;
  }

  /** Start (or restart, keeping its directory) the agent of host `i`. */
  async startAgent(i: number): Promise<KwNode> {
    const spec = this.specs[i]!;
    const prev = this.nodes[i];
    if (prev?.running()) throw new Error(`agent ${spec.host} already runs (pid ${prev.pid})`);
    const n = await startKeepwatch(this.lab.hosts[spec.host]!, liveAgentConfig(spec), {
      id: `p-${spec.host}`,
      port: this.port,
      dir: prev?.dir,
      // the last --web.listen-address wins: listen on every address of the namespace
      args: [`--web.listen-address=0.0.0.0:${this.port}`],
    });
    this.nodes[i] = n;
    return n;
  }

  async start(): Promise<void> {
    await Promise.all(this.specs.map((_, i) => this.startAgent(i)));
  }

  /** SIGTERM one agent (keepalived: priority-0 advert, VIPs removed) and wait for its exit. */
  async stopAgent(i: number): Promise<void> {
    await this.node(i).stop('SIGTERM', 15_000);
  }

  /** VI_1 state per agent from /json (undefined for an agent that is down or not answering). */
  async states(): Promise<Array<StateName | undefined>> {
    const names = Object.keys(STATE_NUM) as StateName[];
    return Promise.all(
      this.nodes.map(async (n) => {
        if (!n?.running()) return undefined;
        const inst = await n.instance('VI_1').catch(() => undefined);
        return inst ? names.find((k) => STATE_NUM[k] === inst.data.state) : undefined;
      }),
    );
  }

  /** Wait until /json reports exactly these states (undefined = agent down). */
  async waitStates(want: Array<StateName | undefined>, timeoutMs = 30_000): Promise<void> {
    let last: Array<StateName | undefined> = [];
    await waitFor(
      async () => {
        last = await this.states();
        return want.every((w, i) => last[i] === w);
      },
      `agent states ${JSON.stringify(want)}`,
      timeoutMs,
      50,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last seen ${JSON.stringify(last)}`);
    });
  }

  /**
   * Bridge port isolation (`bridge link set dev pX isolated on`): isolated ports cannot
   * reach each other but still reach non-isolated ports, so VRRP adverts between the
   * agents are lost while a scraper on a non-isolated port still reaches every agent.
   */
  isolate(hosts: number[], on: boolean): void {
    for (const i of hosts) this.lab.sw.exec('bridge', ['link', 'set', 'dev', this.lab.port(this.specs[i]!.host), 'isolated', on ? 'on' : 'off']);
  }

  /** SIGTERM every running agent (kill -9 of its group if it hangs). Directories are kept for the caller. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n?.stop('SIGTERM', 10_000).catch(() => n.crash())));
  }

  dirs(): string[] {
    return [...new Set(this.nodes.filter((n): n is KwNode => !!n).map((n) => n.dir))];
  }
}
