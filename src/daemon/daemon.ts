/**
 * The daemon's lifecycle (keepalived 2.2.7 core/main.c + vrrp/vrrp_daemon.c, as one
 * process): load the config, write pid files, start the engine and the observers,
 * then react to signals —
 *   SIGTERM/SIGINT: clean stop (priority-0 adverts, VIPs removed, STOP notifies),
 *   SIGHUP: reload (a broken new config is refused and the running one stays),
 *   SIGUSR1 / SIGUSR2 / SIGRTMIN+2 / SIGRTMAX-1: DATA / STATS / JSON / STATS_CLEAR dumps.
 * Everything that happens goes through the journal; the observers read it.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CliOptions } from '../cli/args';
import { installSignalHandlers } from '../cli/signals';
import { removePidFile, writePidFile } from '../cli/pidfile';
import { VERSION } from '../cli/version';
import { loadConfig } from '../config/load';
import type { KeepwatchConfig } from '../config/model';
import { Journal } from '../journal/journal';
import { createNetlink, createVmacSysctl } from '../net/netlink';
import { createAnnouncer } from '../net/announce';
import { createVrrpSocket } from '../net/vrrp-socket';
import { Engine } from './engine';
import { Notifier, type NotifierConfig } from '../notify/notifier';
import { NotifyFifo } from '../notify/fifo';
import { commandLine, notifyTargets } from './build';
import { runCommand } from '../notify/command';
import type { AgentSnapshot } from '../state/snapshot';
import { createLogger, attachLogger } from '../observe/log';
import { Registry } from 'prom-client';
import { addDefaultMetrics } from '../observe/metrics';
import { createTracing, type Tracing } from '../observe/tracing';
import { writeDataDump, writeJsonDump, writeStatsDump, writeStatsDumpThenClear } from '../observe/dumps';
import { startHttpWorker } from '../http/worker-host';
import { formatDiagnostic } from '../cli/diagnostics';

interface Running {
  close(): Promise<void> | void;
}

export class Daemon {
  readonly journal = new Journal();
  engine!: Engine;
  cfg!: KeepwatchConfig;
  private notifier!: Notifier;
  private fifos: NotifyFifo[] = [];
  /** FIFOs this process created with mkfifo: removed again when closed (keepalived fifo_close) */
  private createdFifos = new Set<string>();
  private closers: Running[] = [];
  private pidFiles: string[] = [];
  private reloads = { lastSuccessful: true, lastSuccessWall: 0, successes: 0, failures: 0 };
  private snmpStatus: () => { connected: boolean; reconnects: number } = () => ({ connected: false, reconnects: 0 });
  private stopping: Promise<number> | null = null;
  private tracing: Tracing | null = null;
  private virtualServers: () => AgentSnapshot['virtualServers'] = () => [];
  exitCode = 0;

  constructor(readonly opts: CliOptions) {}

  snapshot = (): AgentSnapshot => ({
    takenAt: Date.now(),
    running: !!this.engine?.running,
    version: VERSION,
    routerId: this.cfg?.global.routerId ?? '',
    instances: this.engine ? this.engine.instanceSnapshots() : [],
    syncGroups: this.engine ? this.engine.syncGroupSnapshots() : [],
    scripts: this.engine ? this.engine.scriptSnapshots() : [],
    // -C (checkers only) never starts the VRRP engine: it has no configuration to read then
    trackedInterfaces: this.engine?.cfg ? this.engine.trackedInterfaceSnapshots() : [],
    virtualServers: this.virtualServers(),
    reload: { ...this.reloads },
    snmp: this.snmpStatus(),
    ...(this.engine ? { vrrpRouterStats: this.engine.globalErrors() } : {}),
  });

  private notifierConfig(cfg: KeepwatchConfig): NotifierConfig {
    this.closeFifos();
    const fifo = (spec: KeepwatchConfig['global']['notifyFifo']) => {
      const path = spec.path;
      if (!path) return undefined;
      const existed = fs.existsSync(path);
      const f = new NotifyFifo(path);
      if (!f.open()) this.journal.emit({ type: 'vrrp.log', level: 'error', message: `Unable to open notify FIFO ${path}: ${f.error}` });
      else if (!existed) this.createdFifos.add(path);
      this.fifos.push(f);
      // keepalived lib/notify.c fifo_open: notify_fifo_script runs with the FIFO path as
      // its last argument, (re)started whenever the FIFO is (re)opened (start and reload)
      const sc = spec.script;
      if (sc && !sc.disabled && f.error === null) {
        const command = commandLine(sc);
        void runCommand(command, { extraArgs: [path], user: { uid: sc.uid, gid: sc.gid } }).then((r) =>
          this.journal.emit({ type: 'notify.run', event: 'notify_fifo_script', target: path, command, exitCode: r.exitCode, durationMs: r.durationMs, ...(r.error ? { error: r.error } : {}) }),
        );
      }
      return f;
    };
    const both = fifo(cfg.global.notifyFifo);
    const vrrp = fifo(cfg.global.vrrpNotifyFifo);
    const lvs = fifo(cfg.global.lvsNotifyFifo);
    return {
      instances: new Map(cfg.instances.map((i) => [i.name, notifyTargets(i.notify)])),
      groups: new Map(cfg.syncGroups.map((g) => [g.name, notifyTargets(g.notify)])),
      vrrpFifos: [both, vrrp].filter((x): x is NotifyFifo => !!x),
      lvsFifos: [both, lvs].filter((x): x is NotifyFifo => !!x),
    };
  }

  async start(): Promise<number> {
    const o = this.opts;
    if (o.umask !== undefined) process.umask(o.umask);
    const logger = createLogger({ console: o.logConsole, detail: o.logDetail > 0, level: o.logLevel as 'info' });
    this.closers.push({ close: attachLogger(this.journal, logger) });

    const loaded = loadConfig(o.useFile, { configId: o.configId, allConfig: o.allConfig });
    for (const d of loaded.diagnostics) this.journal.emit({ type: 'vrrp.log', level: d.severity === 'error' ? 'error' : 'warning', message: formatDiagnostic(d) });
    if (!loaded.config) {
      this.journal.emit({ type: 'config.error', file: o.useFile, diagnostics: loaded.diagnostics });
      logger.flush?.();
      return loaded.exitCode || 1;
    }
    this.cfg = loaded.config;
    if (o.umask === undefined && this.cfg.global.umask !== undefined) process.umask(this.cfg.global.umask);

    // Parsed, not run (README "Configuration compatibility"): say so once at start-up.
    for (const b of this.cfg.bfdInstances) this.journal.emit({ type: 'vrrp.log', level: 'warning', message: `${b.file}:${b.line}: bfd_instance ${b.name} is not supported by keepwatch and is ignored` });
    for (const i of this.cfg.instances) if (i.trackBfds.length) this.journal.emit({ type: 'vrrp.log', level: 'warning', message: `${i.file}:${i.line}: (${i.name}) track_bfd is not supported and is ignored` });
    if (o.namespace) this.journal.emit({ type: 'vrrp.log', level: 'warning', message: `--namespace ${o.namespace} is not supported: run keepwatch under 'ip netns exec ${o.namespace}'` });
    // keepalived 2.2.7 runs its VRRP process for static_ipaddress/_routes/_rules alone too (have_vrrp_config)
    const c = this.cfg;
    const hasVrrp = (c.instances.length > 0 || c.staticAddresses.length > 0 || c.staticRoutes.length > 0 || c.staticRules.length > 0) && !o.checkOnly;
    const hasLvs = this.cfg.virtualServers.length > 0 && !o.vrrpOnly;
    for (const [file, on] of [
      [o.pidFile, true],
      [o.vrrpPidFile, hasVrrp || o.all],
      [o.checkersPidFile, hasLvs || o.all],
    ] as const) {
      if (!on) continue;
      const err = writePidFile(file);
      if (err) {
        this.journal.emit({ type: 'vrrp.log', level: 'error', message: err });
        this.cleanupPidFiles();
        return 1;
      }
      this.pidFiles.push(file);
    }

    this.journal.emit({ type: 'daemon.start', pid: process.pid, version: VERSION });
    this.journal.emit({ type: 'config.loaded', file: o.useFile, instances: this.cfg.instances.length, virtualServers: this.cfg.virtualServers.length, warnings: loaded.diagnostics.length });

    // Observers first, so they see the start-up transitions.
    this.notifier = new Notifier(this.journal, this.notifierConfig(this.cfg));
    this.notifier.start();
    this.tracing = await createTracing({ enabled: o.tracing ? true : undefined, serviceVersion: VERSION });
    if (this.tracing.enabled) this.closers.push({ close: this.tracing.attach(this.journal) });

    const netlink = await createNetlink();
    // socket-level trouble (an event socket that could not be hardened, unparsable events):
    // logged, never fatal
    netlink.onError?.((e) => this.journal.emit({ type: 'vrrp.log', level: 'warning', message: `Netlink: ${e.message}` }));
    const announcer = createAnnouncer();
    this.closers.push({ close: () => announcer.close() }, { close: () => netlink.close() });
    this.engine = new Engine({ journal: this.journal, netlink, announcer, createSocket: createVrrpSocket, vmacSysctl: createVmacSysctl() });

    try {
      // HTTP, the metrics and /json render in a worker thread fed from this journal and
      // snapshot (src/http/worker-host.ts): a scrape flood does not compete with the
      // VRRP timers for this thread.
      const http = await startHttpWorker({
        listenAddress: o.webListenAddress,
        telemetryPath: o.webTelemetryPath,
        webConfigFile: o.webConfigFile,
        journal: this.journal,
        snapshot: this.snapshot,
        healthy: () => !!this.engine?.running && !this.stopping,
        defaultMetrics: addDefaultMetrics(new Registry()),
        tracing: this.tracing.enabled ? this.tracing : undefined,
        version: VERSION,
        // a crashed worker is an error (it is restarted); a client's bad request is not
        onError: (e) => this.journal.emit({ type: 'vrrp.log', level: (e as { crash?: boolean }).crash ? 'error' : 'debug', message: `HTTP: ${e.message}` }),
      });
      this.closers.unshift({ close: () => http.close() });
    } catch (e) {
      this.journal.emit({ type: 'vrrp.log', level: 'error', message: `HTTP server on ${o.webListenAddress} failed: ${(e as Error).message}` });
    }

    const uninstall = installSignalHandlers(
      {
        stop: (sig) => void this.stop(sig),
        reload: () => void this.reload(),
        data: () => void this.dump('data'),
        stats: () => void this.dump('stats'),
        statsClear: () => void this.dump('stats_clear'),
        json: () => void this.dump('json'),
      },
      (w) => this.journal.emit({ type: 'vrrp.log', level: 'warning', message: w }),
    );
    this.closers.push({ close: uninstall });

    if (hasVrrp) await this.engine.start(this.cfg);
    else this.engine.running = true;
    await this.startOptional(hasLvs);
    return new Promise<number>((resolve) => {
      this.resolveExit = resolve;
    });
  }

  private resolveExit: (code: number) => void = () => {};

  /** SNMP and LVS start only when configured; their modules load lazily. */
  private async startOptional(hasLvs: boolean): Promise<void> {
    const g = this.cfg.global;
    const snmpOn = this.opts.snmp || g.enableSnmpVrrp || g.enableSnmpChecker || g.enableSnmpRfcv2 || g.enableSnmpRfcv3 || g.enableTraps;
    if (snmpOn) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const snmp = require('../snmp/index') as typeof import('../snmp/index');
        const agent = snmp.startSnmp({
          socket: this.opts.snmpAgentSocket ?? g.snmpSocket ?? 'unix:/var/agentx/master',
          journal: this.journal,
          snapshot: this.snapshot,
          enable: {
            vrrp: this.opts.snmp || g.enableSnmpVrrp,
            checker: this.opts.snmp || g.enableSnmpChecker,
            rfcv2: this.opts.snmp || g.enableSnmpRfcv2,
            rfcv3: this.opts.snmp || g.enableSnmpRfcv3,
          },
          traps: g.enableTraps,
          // keepalived lets a manager SET base priority, preempt and real-server weight;
          // keepwatch only when asked. LVS starts after SNMP: the weight goes through lvsSetWeight.
          ...(this.opts.snmpWritable
            ? {
                writable: {
                  setBasePriority: (i: string, p: number) => this.engine.setBasePriority(i, p),
                  setPreempt: (i: string, v: boolean) => this.engine.setPreempt(i, v),
                  setRealServerWeight: (vs: string, rs: string, w: number, proto?: string) => this.lvsSetWeight?.(vs, rs, w, proto) ?? { ok: false as const, error: 'LVS is not running' },
                },
              }
            : {}),
        });
        this.snmpStatus = () => agent.status();
        this.closers.unshift({ close: () => agent.stop() });
      } catch (e) {
        this.journal.emit({ type: 'vrrp.log', level: 'error', message: `SNMP subagent failed to start: ${(e as Error).message}` });
      }
    }
    if (hasLvs) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const lvs = require('../lvs/service') as {
          startLvs(o: { config: KeepwatchConfig; journal: Journal; dontReleaseIpvs: boolean }): Promise<{
            snapshot(): AgentSnapshot['virtualServers'];
            reload(cfg: KeepwatchConfig): Promise<void>;
            stop(): Promise<void>;
            setRealServerWeight(vs: string, rs: string, weight: number, protocol?: string): { ok: true } | { ok: false; error: string };
          }>;
        };
        const svc = await lvs.startLvs({ config: this.cfg, journal: this.journal, dontReleaseIpvs: this.opts.dontReleaseIpvs });
        this.virtualServers = () => svc.snapshot();
        this.lvsReload = (cfg) => svc.reload(cfg);
        this.lvsSetWeight = (vs, rs, w, proto) => svc.setRealServerWeight(vs, rs, w, proto);
        this.closers.unshift({ close: () => svc.stop() });
      } catch (e) {
        // No IPVS in the kernel: a clear error, and VRRP keeps working (issue 7)
        this.journal.emit({ type: 'vrrp.log', level: 'error', message: `LVS disabled: ${(e as Error).message}` });
      }
    }
  }

  private lvsReload: ((cfg: KeepwatchConfig) => Promise<void>) | null = null;
  /** SNMP SET realServerWeight (--snmp.writable only), once LVS runs */
  private lvsSetWeight: ((vs: string, rs: string, weight: number, protocol?: string) => { ok: true } | { ok: false; error: string }) | null = null;

  async reload(): Promise<void> {
    if (this.stopping) return;
    const t0 = performance.now();
    const loaded = loadConfig(this.opts.useFile, { configId: this.opts.configId, allConfig: this.opts.allConfig });
    if (!loaded.config) {
      for (const d of loaded.diagnostics) this.journal.emit({ type: 'vrrp.log', level: 'error', message: formatDiagnostic(d) });
      this.reloads.lastSuccessful = false;
      this.reloads.failures++;
      this.journal.emit({ type: 'config.reload', result: 'failure', file: this.opts.useFile, durationMs: performance.now() - t0, added: [], removed: [], changed: [], error: loaded.diagnostics.find((d) => d.severity === 'error')?.message ?? 'configuration refused' });
      return;
    }
    try {
      this.cfg = loaded.config;
      this.notifier.update(this.notifierConfig(this.cfg));
      const diff = await this.engine.reload(this.cfg);
      if (this.lvsReload) await this.lvsReload(this.cfg);
      this.reloads.lastSuccessful = true;
      this.reloads.successes++;
      this.reloads.lastSuccessWall = Date.now();
      this.journal.emit({ type: 'config.reload', result: 'success', file: this.opts.useFile, durationMs: performance.now() - t0, ...diff });
    } catch (e) {
      this.reloads.lastSuccessful = false;
      this.reloads.failures++;
      this.journal.emit({ type: 'config.reload', result: 'failure', file: this.opts.useFile, durationMs: performance.now() - t0, added: [], removed: [], changed: [], error: (e as Error).message });
    }
  }

  async dump(kind: 'data' | 'stats' | 'json' | 'stats_clear'): Promise<void> {
    try {
      const snap = this.snapshot();
      let path: string | null;
      if (kind === 'data') path = await writeDataDump(snap);
      else if (kind === 'stats') path = await writeStatsDump(snap);
      else if (kind === 'json') path = await writeJsonDump(snap);
      else path = await writeStatsDumpThenClear(this.snapshot, () => this.engine.clearStats());
      if (path) this.journal.emit({ type: 'dump.written', kind: kind === 'stats_clear' ? 'stats' : kind, path });
    } catch (e) {
      this.journal.emit({ type: 'vrrp.log', level: 'error', message: `cannot write ${kind} dump: ${(e as Error).message}` });
    }
  }

  stop(signal = 'SIGTERM'): Promise<number> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.journal.emit({ type: 'daemon.stop', signal });
      try {
        await this.engine?.stop();
        await this.notifier?.drain();
      } catch (e) {
        this.journal.emit({ type: 'vrrp.log', level: 'error', message: `stop: ${(e as Error).message}` });
      }
      this.notifier?.stop();
      for (const c of this.closers) {
        try {
          await c.close();
        } catch {
          /* closing anyway */
        }
      }
      await this.tracing?.shutdown().catch(() => undefined);
      this.closeFifos();
      this.cleanupPidFiles();
      this.resolveExit(this.exitCode);
      return this.exitCode;
    })();
    return this.stopping;
  }

  /**
   * keepalived fifo_close: unlink a FIFO we created before closing it, so a
   * notify_fifo_script reading it sees end-of-file and cannot reopen the old one; a FIFO
   * the operator made stays (and keeps its readers across reloads).
   */
  private closeFifos(): void {
    for (const f of this.fifos) {
      if (this.createdFifos.delete(f.path)) {
        try {
          fs.unlinkSync(f.path);
        } catch {
          /* already gone */
        }
      }
      f.close();
    }
    this.fifos = [];
  }

  private cleanupPidFiles(): void {
    for (const f of this.pidFiles) removePidFile(f);
    this.pidFiles = [];
  }
}

export async function runDaemon(o: CliOptions): Promise<number> {
  if (!fs.existsSync(o.useFile)) {
    process.stderr.write(`Configuration file '${o.useFile}' does not exist\n`);
    return 1;
  }
  const d = new Daemon(o);
  const code = await d.start();
  // Everything we opened is closed by now; a handle some library keeps open must not
  // keep a stopped daemon around (systemd would wait for it). The timer is unref'd, so
  // a clean exit happens earlier by itself.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
