// A real Prometheus (Debian's /usr/bin/prometheus) for system tests: generated config with
// static targets scraped every second, our rule files evaluated every second, storage in a
// temp dir, listening on 127.0.0.1:<port>; plus HTTP API helpers (instant query, alerts,
// targets) and a stop() that ends exactly the process it started, by PID.
//
// Usage:
//   const prom = await startPrometheus({ port: 19401, jobs: [{ job: 'keepalived', targets: ['127.0.0.1:19411'] }],
//                                         ruleFiles: ['/abs/keepwatch.rules.yml'] });
//   await prom.waitForTargetsUp();
//   const v = await prom.query('keepalived_vrrp_status{state="MASTER"} == 1');
//   const alerts = await prom.alerts();
//   await prom.stop();
// To scrape agents that live in a network namespace, pass `wrap: ['ip', 'netns', 'exec', NS]`:
// `ip netns exec` execs Prometheus in place, so the PID stays Prometheus'.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeJob {
  job: string;
  targets: string[];
  /** target labels added to every series of these targets */
  labels?: Record<string, string>;
  scrapeInterval?: string;
  metricsPath?: string;
}

export interface PrometheusOptions {
  /** loopback port to listen on (helpers: use your assigned range) */
  port: number;
  host?: string;
  jobs: ScrapeJob[];
  /** absolute paths of rule files */
  ruleFiles?: string[];
  scrapeInterval?: string;
  evaluationInterval?: string;
  binary?: string;
  /** command prefix, e.g. ['ip', 'netns', 'exec', 'kwtd-a'] */
  wrap?: string[];
  /** how long to wait for /-/ready */
  readyTimeoutMs?: number;
}

export interface Sample { metric: Record<string, string>; value: [number, string] }
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}
export interface TargetInfo { labels: Record<string, string>; scrapeUrl: string; health: 'up' | 'down' | 'unknown'; lastError: string }

interface ApiResponse<T> { status: 'success' | 'error'; data: T; errorType?: string; error?: string }

export class PrometheusError extends Error {}

function yamlString(s: string): string { return JSON.stringify(s); }

export function prometheusConfig(opts: Pick<PrometheusOptions, 'jobs' | 'ruleFiles' | 'scrapeInterval' | 'evaluationInterval'>): string {
  const lines = [
    'global:',
    `  scrape_interval: ${opts.scrapeInterval ?? '1s'}`,
    `  scrape_timeout: ${opts.scrapeInterval ?? '1s'}`,
    `  evaluation_interval: ${opts.evaluationInterval ?? '1s'}`,
    'rule_files:',
    ...(opts.ruleFiles ?? []).map((f) => `  - ${yamlString(f)}`),
    'scrape_configs:',
  ];
  if (!opts.ruleFiles?.length) lines.splice(lines.indexOf('rule_files:'), 1, 'rule_files: []');
  for (const j of opts.jobs) {
    lines.push(`  - job_name: ${yamlString(j.job)}`);
    if (j.scrapeInterval) lines.push(`    scrape_interval: ${j.scrapeInterval}`, `    scrape_timeout: ${j.scrapeInterval}`);
    if (j.metricsPath) lines.push(`    metrics_path: ${yamlString(j.metricsPath)}`);
    lines.push('    static_configs:', `      - targets: [${j.targets.map(yamlString).join(', ')}]`);
    if (j.labels && Object.keys(j.labels).length) {
      lines.push(`        labels: {${Object.entries(j.labels).map(([k, v]) => `${k}: ${yamlString(v)}`).join(', ')}}`);
    }
  }
  return lines.join('\n') + '\n';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PrometheusServer {
  readonly url: string;
  private exited = false;
  private exitCode: number | null = null;
  private log: string[] = [];

  private constructor(readonly dir: string, private readonly child: ChildProcess, host: string, port: number) {
    this.url = `http://${host}:${port}`;
    child.on('exit', (code) => { this.exited = true; this.exitCode = code; });
    const keep = (buf: Buffer) => {
      this.log.push(...buf.toString('utf8').split('\n').filter(Boolean));
      if (this.log.length > 400) this.log.splice(0, this.log.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get pid(): number { return this.child.pid!; }
  get running(): boolean { return !this.exited; }
  /** last lines Prometheus logged (for failure messages) */
  logTail(n = 40): string { return this.log.slice(-n).join('\n'); }

  static async start(opts: PrometheusOptions): Promise<PrometheusServer> {
    const host = opts.host ?? '127.0.0.1';
    const dir = mkdtempSync(path.join(tmpdir(), 'kwt-prometheus-'));
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(opts));
    const argv = [
      opts.binary ?? PROMETHEUS_BIN,
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${host}:${opts.port}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
      '--log.level=info',
    ];
    const cmd = [...(opts.wrap ?? []), ...argv];
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new PrometheusServer(dir, child, host, opts.port);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    for (;;) {
      const early = await Promise.race([spawnError, sleep(200).then(() => undefined)]);
      if (early) { rmSync(dir, { recursive: true, force: true }); throw new PrometheusError(`cannot start ${cmd[0]}: ${early.message}`); }
      if (server.exited) {
        const tail = server.logTail();
        rmSync(dir, { recursive: true, force: true });
        throw new PrometheusError(`prometheus exited with ${server.exitCode} before ready:\n${tail}`);
      }
      try {
        const r = await fetch(`${server.url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return server;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        await server.stop();
        throw new PrometheusError(`prometheus not ready within deadline:\n${server.logTail()}`);
      }
    }
  }

  private async api<T>(pathAndQuery: string, init?: RequestInit): Promise<T> {
    const r = await fetch(`${this.url}${pathAndQuery}`, { ...init, signal: AbortSignal.timeout(10_000) });
    const body = (await r.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new PrometheusError(`${pathAndQuery}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** Instant query; returns the vector (scalars come back as one sample without labels). */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const data = await this.api<{ resultType: string; result: unknown }>(`/api/v1/query`, {
      method: 'POST', body: params, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (data.resultType === 'vector') return data.result as Sample[];
    if (data.resultType === 'scalar' || data.resultType === 'string') return [{ metric: {}, value: data.result as [number, string] }];
    throw new PrometheusError(`unexpected result type ${data.resultType} for ${expr}`);
  }

  /** Active (pending or firing) alerts. */
  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
  }

  async targets(): Promise<TargetInfo[]> {
    return (await this.api<{ activeTargets: TargetInfo[] }>('/api/v1/targets?state=active')).activeTargets;
  }

  /** Loaded alerting/recording rules with their health (to catch evaluation errors). */
  async ruleGroups(): Promise<Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; type: string }> }>> {
    return (await this.api<{ groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; type: string }> }> }>('/api/v1/rules')).groups;
  }

  async waitForTargetsUp(timeoutMs = 60_000): Promise<TargetInfo[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.targets();
      if (t.length > 0 && t.every((x) => x.health === 'up')) return t;
      if (Date.now() > deadline) throw new PrometheusError(`targets not up: ${JSON.stringify(t.map((x) => [x.scrapeUrl, x.health, x.lastError]))}`);
      await sleep(250);
    }
  }

  /** SIGTERM the process we started (by PID), SIGKILL after a grace period, remove storage. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.exited) {
      try { process.kill(this.pid, 'SIGTERM'); } catch { /* already gone */ }
      const deadline = Date.now() + graceMs;
      while (!this.exited && Date.now() < deadline) await sleep(100);
      if (!this.exited) {
        try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
        const hard = Date.now() + 5000;
        while (!this.exited && Date.now() < hard) await sleep(50);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  return PrometheusServer.start(opts);
}
