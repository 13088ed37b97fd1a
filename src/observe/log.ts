/**
 * Logs as an observer of the journal, on pino.
 *
 * - Default: JSON lines (pino), one line per journal event that matters, with the
 *   structured fields (instance, vrid, from, to, reason, …) and keepalived's own
 *   wording as `msg`, so a grep written for keepalived still matches.
 * - `-l` (console, keepalived `--log-console`): plain lines on stderr exactly as
 *   keepalived 2.2.7 prints them: `%c: <message>` (lib/logger.c vlog_message,
 *   strftime "%c" in the C locale, e.g. "Tue Nov 24 10:11:03 2026: (VI_1) Entering MASTER STATE").
 * - `-D` (detail, keepalived `--log-detail`): also the lines keepalived prints only under
 *   LOG_DETAIL_BIT (per-packet GARP/NA lines, "Backup received priority 0 advertisement",
 *   "sent 0 priority", "Sending/queueing gratuitous ARPs …").
 *
 * The message strings are keepalived 2.2.7's (vrrp/vrrp.c, vrrp_scheduler.c,
 * vrrp_track.c, vrrp_arp.c, vrrp_ndisc.c, vrrp_sync.c, vrrp_daemon.c,
 * core/keepalived_netlink.c, check/ipwrapper.c); see shared/reference/keepalived-2.2.7/logs/.
 */
import pino, { type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import type { JournalEvent } from '../journal/events';
import type { Journal } from '../journal/journal';

export interface LoggerOptions {
  /** keepalived -l / --log-console: keepalived's plain console lines */
  console?: boolean;
  /** keepalived -D / --log-detail */
  detail?: boolean;
  level?: LevelWithSilent;
  /** where lines go; default stderr (console mode, like keepalived) or stdout (JSON) */
  destination?: DestinationStream;
  /** synchronous writes (default false: never block the event loop on a slow pipe) */
  sync?: boolean;
}

interface LoggerMeta {
  console: boolean;
  detail: boolean;
  /** wall ms of the journal event being logged: lines carry the event's time, not the write time */
  eventWall?: number;
}
const meta = new WeakMap<Logger, LoggerMeta>();

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** strftime("%c") in the C/POSIX locale, local time: "Tue Nov 24 10:11:03 2026" (%e day, space padded). */
export function formatCTime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** Turns pino's JSON line into keepalived's console line. */
function consoleDestination(out: DestinationStream): DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void } {
  const o = out as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void };
  return {
    write(s: string) {
      let line: string;
      try {
        const j = JSON.parse(s) as { time?: number; msg?: string };
        line = `${formatCTime(typeof j.time === 'number' ? j.time : Date.now())}: ${j.msg ?? ''}\n`;
      } catch {
        line = s;
      }
      o.write(line);
    },
    flush: o.flush ? (cb) => o.flush!(cb) : undefined,
    flushSync: o.flushSync ? () => o.flushSync!() : undefined,
  };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const consoleMode = !!opts.console;
  const dest = opts.destination ?? pino.destination({ dest: consoleMode ? 2 : 1, sync: !!opts.sync });
  const m: LoggerMeta = { console: consoleMode, detail: !!opts.detail };
  const timestamp = () => `,"time":${m.eventWall ?? Date.now()}`;
  const logger = consoleMode
    ? pino({ level: opts.level ?? 'info', base: undefined, timestamp }, consoleDestination(dest))
    : pino(
        {
          level: opts.level ?? 'info',
          base: { pid: process.pid },
          timestamp,
          formatters: { level: (label) => ({ level: label }) },
        },
        dest,
      );
  meta.set(logger, m);
  return logger;
}

// ------------------------------------------------------------------ event → lines

/** One log record: `msg` for JSON mode, `lines` (keepalived's strings) for console mode. */
interface Rec {
  level: Level;
  msg: string;
  fields: Record<string, unknown>;
  /** console lines; default [msg]; [] = nothing in console mode; {detail} lines only with -D */
  lines?: (string | { text: string; detail: true })[];
  /** keepalived prints this only with -D */
  detailOnly?: boolean;
  /** an extra keepalived console line; JSON mode already has the event's own record */
  consoleOnly?: boolean;
}

/** keepalived FMT_VS/FMT_RS style "[ip]:port" (keepwatch names are "ip:port", "[v6]:port", "fwmark:N"). */
export function fmtService(name: string): string {
  if (name.startsWith('[') || name.startsWith('group:')) return name;
  if (name.startsWith('fwmark:')) return `FWM ${name.slice(7)}`;
  const c = name.lastIndexOf(':');
  if (c < 0 || name.indexOf(':') !== c) return `[${name}]`;
  return `[${name.slice(0, c)}]:${name.slice(c + 1)}`;
}

export interface AttachOptions {
  /** keepalived -D; defaults to what createLogger() was given */
  detail?: boolean;
  /** at most one receive-error line per instance+counter per this many ms (default 1000) */
  errorIntervalMs?: number;
}

/**
 * Subscribe `logger` to the journal. Returns the unsubscribe function. Never throws
 * into the producer (the journal isolates observers anyway).
 */
export function attachLogger(journal: Journal, logger: Logger, opts: AttachOptions = {}): () => void {
  const m: LoggerMeta = meta.get(logger) ?? { console: false, detail: false };
  const detail = opts.detail ?? m.detail;
  const consoleMode = m.console;
  const errorInterval = opts.errorIntervalMs ?? 1000;

  const masterDownLogged = new Set<string>();
  const vipRun = new Map<string, 'add' | 'remove'>();
  const scriptStatus = new Map<string, string>();
  const scriptExit = new Map<string, number>();
  const errWindow = new Map<string, { until: number; suppressed: number }>();

  // ---- text lines the engine journals itself (vrrp.log / lvs.log) ----
  // The VRRP FSM journals keepalived's own wording ("(VI_1) Entering MASTER STATE") as
  // vrrp.log right before the structured event it belongs to. Such a line is held until
  // the end of the current tick: if a structured event of the same tick renders the
  // same text, the structured record (which carries the fields) replaces it, so each
  // keepalived line appears once. Level 'debug' marks keepalived's LOG_DETAIL lines.
  interface EngineLine {
    level: 'debug' | 'info' | 'warning' | 'error';
    message: string;
    wall: number;
    mono: number;
    event: string;
  }
  let pending: EngineLine[] = [];
  /** engine lines a structured record of this tick already rendered, expected to arrive after it */
  let expected: ((text: string) => boolean)[] = [];
  let flushScheduled = false;
  const recentEngine = new Map<string, number>();
  const scheduleFlush = () => {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushPending);
    }
  };
  const writeEngine = (l: EngineLine) => {
    recentEngine.delete(l.message);
    recentEngine.set(l.message, l.mono);
    if (recentEngine.size > 256) recentEngine.delete(recentEngine.keys().next().value as string);
    const base: Level = l.level === 'warning' ? 'warn' : l.level;
    const level: Level = base === 'debug' && detail ? 'info' : base;
    m.eventWall = l.wall;
    try {
      if (consoleMode) {
        if (base === 'debug' && !detail) return;
        logger[level](l.message);
      } else if (logger.isLevelEnabled(level)) logger[level]({ event: l.event }, l.message);
    } finally {
      m.eventWall = undefined;
    }
  };
  /** write the held engine lines (in arrival order) */
  const writePending = () => {
    const p = pending;
    pending = [];
    for (const l of p) writeEngine(l);
  };
  const flushPending = () => {
    flushScheduled = false;
    expected = [];
    writePending();
  };
  const queueEngine = (l: EngineLine) => {
    const k = expected.findIndex((match) => match(l.message));
    if (k >= 0) {
      expected.splice(k, 1);
      return;
    }
    pending.push(l);
    scheduleFlush();
  };
  /** the engine's copy of a line a structured record renders: drop it whether it came just before or comes just after */
  const swallowEngine = (match: (text: string) => boolean): 'held' | 'expected' => {
    const i = pending.findIndex((p) => match(p.message));
    if (i >= 0) {
      pending.splice(i, 1);
      return 'held';
    }
    expected.push(match);
    scheduleFlush();
    return 'expected';
  };
  /** a structured record renders `text`: true if the engine already printed it (an earlier tick) */
  const engineHad = (text: string, mono: number): boolean => {
    if (swallowEngine((t) => t === text) === 'held') return false;
    const t = recentEngine.get(text);
    return t !== undefined && mono - t <= 1000;
  };

  let currentMono = 0;
  const emit = (r: Rec | null) => {
    if (!r) return;
    const lines = (r.lines ?? [r.msg]).map((l) => (typeof l === 'string' ? { text: l, detail: !!r.detailOnly } : l));
    // drop the engine's copies of these lines, then write the engine lines that came
    // before this event, so the output keeps the order things happened in
    const already = lines.map((l) => engineHad(l.text, currentMono));
    if (!lines.some((l) => l.text === r.msg)) engineHad(r.msg, currentMono);
    writePending();
    if (r.consoleOnly && !consoleMode) return;
    if (consoleMode) {
      lines.forEach((l, k) => {
        // detail lines only with -D (the engine's copy is detail-only too, and was dropped)
        if (!already[k] && (!l.detail || detail)) logger[r.level](l.text);
      });
    } else {
      const level = r.detailOnly && !detail && r.level === 'info' ? 'debug' : r.level;
      if (!logger.isLevelEnabled(level)) return;
      logger[level](r.fields, r.msg);
    }
  };

  /** receive-error flood guard (bad packets must not turn into a log flood) */
  const rateLimited = (key: string, mono: number): { ok: boolean; suppressed: number } => {
    const w = errWindow.get(key);
    if (w && mono < w.until) {
      w.suppressed++;
      return { ok: false, suppressed: 0 };
    }
    const suppressed = w?.suppressed ?? 0;
    errWindow.set(key, { until: mono + errorInterval, suppressed: 0 });
    if (errWindow.size > 10_000) errWindow.clear();
    return { ok: true, suppressed };
  };

  const onEvent = (e: JournalEvent): void => {
    if (e.type === 'vrrp.log' || e.type === 'lvs.log') {
      queueEngine({ level: e.level, message: e.message, wall: e.wall, mono: e.mono, event: e.type });
      return;
    }
    m.eventWall = e.wall;
    currentMono = e.mono;
    try {
      handle(e);
    } finally {
      m.eventWall = undefined;
    }
  };

  const handle = (e: JournalEvent): void => {
    // keepalived logs "(X) setting VIPs." once per vrrp_handle_ipaddress call, not per
    // address: one line per run of same-op VIP events of an instance; any other
    // instance event (transition, GARP, timeout, priority-0 advert) ends the run.
    if ('instance' in e && e.type !== 'vrrp.vip' && e.type !== 'vrrp.advert.received' && (e.type !== 'vrrp.advert.sent' || e.priority === 0)) vipRun.delete(e.instance);

    const base = { event: e.type };
    switch (e.type) {
      case 'vrrp.transition': {
        const tag = `(${e.instance})`;
        const fields = { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, from: e.from, to: e.to, reason: e.reason, priority: e.priority, masterPriority: e.masterPriority, masterAddress: e.masterAddress };
        const lines: NonNullable<Rec['lines']> = [];
        let msg: string;
        if (e.to === 'STOP') {
          // keepalived has no "Entering" line for stop; its shutdown lines come from the
          // priority-0 advert and VIP removal events.
          emit({ level: 'info', msg: `${tag} Stopped`, fields, lines: [] });
          break;
        }
        // keepalived 2.2.7: a BACKUP only becomes MASTER when its read timer (the master
        // down timer) fires — after silence, after a priority-0 advert (timer = skew), or
        // when preempting (lower-priority adverts are discarded) — and logs the timeout
        // first (a LOG_DETAIL line, -D). The engine may journal it as vrrp.master_down;
        // otherwise it is printed here.
        const viaTimer = e.from === 'BACKUP' && e.to === 'MASTER' && e.reason !== 'sync_group' && e.reason !== 'address_owner' && e.reason !== 'admin';
        if (viaTimer && !masterDownLogged.has(e.instance)) lines.push({ text: `${tag} Receive advertisement timeout`, detail: true });
        masterDownLogged.delete(e.instance);
        if (e.from === 'MASTER' && e.to === 'BACKUP' && e.masterAddress && e.masterPriority > e.priority) {
          lines.push(`${tag} Master received advert from ${e.masterAddress} with higher priority ${e.masterPriority}, ours ${e.priority}`);
        }
        if (e.from === 'INIT' && (e.to === 'BACKUP' || e.to === 'FAULT')) msg = `${tag} Entering ${e.to} STATE (init)`;
        else msg = `${tag} Entering ${e.to} STATE`;
        lines.push(msg);
        emit({ level: 'info', msg, fields, lines });
        break;
      }
      case 'vrrp.master_down':
        masterDownLogged.add(e.instance);
        // keepalived 2.2.7 vrrp_scheduler.c: logged only with LOG_DETAIL (-D)
        emit({ level: 'info', detailOnly: true, msg: `(${e.instance}) Receive advertisement timeout`, fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, intervalMs: e.intervalMs } });
        break;
      case 'vrrp.priority':
        emit({
          level: 'info',
          msg: `(${e.instance}) Changing effective priority from ${e.from} to ${e.to}`,
          fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, from: e.from, to: e.to, cause: e.cause },
        });
        break;
      case 'vrrp.advert.received': {
        if (e.inMaster) break; // the transition that follows carries the story
        if (e.discarded === 'lower_priority') {
          emit({
            level: 'info',
            msg: `(${e.instance}) received lower priority (${e.priority}) advert from ${e.src} - discarding`,
            fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, src: e.src, priority: e.priority },
          });
        } else if (e.priority === 0) {
          emit({ level: 'info', detailOnly: true, msg: `(${e.instance}) Backup received priority 0 advertisement`, fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, src: e.src } });
        }
        break;
      }
      case 'vrrp.advert.sent':
        if (e.priority === 0) emit({ level: 'info', detailOnly: true, msg: `(${e.instance}) sent 0 priority`, fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf } });
        break;
      case 'vrrp.vip': {
        const fields = { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, op: e.op, address: e.address, dev: e.dev, ok: e.ok, error: e.error };
        if (!e.ok) {
          const msg = `(${e.instance}) ${e.op === 'add' ? 'cannot add' : 'cannot remove'} VIP ${e.address} on ${e.dev}: ${e.error ?? 'failed'}`;
          emit({ level: 'error', msg, fields });
          break;
        }
        const msg = `(${e.instance}) ${e.op === 'add' ? 'setting' : 'removing'} VIPs.`;
        const newRun = vipRun.get(e.instance) !== e.op;
        vipRun.set(e.instance, e.op);
        emit({ level: 'info', msg, fields, lines: newRun ? [msg] : [] });
        break;
      }
      case 'vrrp.route': {
        const fields = { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, op: e.op, route: e.route, ok: e.ok, error: e.error };
        const what = e.kind ?? 'route';
        if (e.ok) emit({ level: 'debug', msg: `(${e.instance}) ${e.op === 'add' ? 'adding' : 'removing'} ${what} ${e.route}`, fields, lines: [] });
        else emit({ level: 'error', msg: `(${e.instance}) cannot ${e.op} ${what} ${e.route}: ${e.error ?? 'failed'}`, fields });
        break;
      }
      case 'vrrp.garp': {
        const v6 = e.family === 'ipv6';
        const what = e.address ? ` for ${e.address}` : '';
        const msg = `(${e.instance}) Sending/queueing ${v6 ? 'Unsolicited Neighbour Adverts' : 'gratuitous ARPs'} on ${e.dev}${what}`;
        const per = v6 ? `Sending unsolicited Neighbour Advert on ${e.dev}${what}` : `Sending gratuitous ARP on ${e.dev}${what}`;
        emit({
          level: 'info',
          detailOnly: true,
          msg,
          fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, family: e.family, dev: e.dev, address: e.address, count: e.count },
          lines: [msg, ...new Array<string>(Math.max(0, Math.min(e.count, 1000))).fill(per)].map((text) => ({ text, detail: true as const })),
        });
        break;
      }
      case 'vrrp.sync_group':
        emit({
          level: 'info',
          msg: `VRRP_Group(${e.group}) Syncing instances to ${e.to} state`,
          fields: { ...base, group: e.group, from: e.from, to: e.to, reason: e.reason },
        });
        break;
      case 'vrrp.error':
      case 'vrrp.global_error': {
        // The instance runner also journals keepalived's text for the drop ("(VI_1) invalid
        // TTL/HL. Received 64 and expect 255") as vrrp.log: that copy is swallowed and this
        // record, rate-limited, stands for both — a packet flood is not a log flood.
        const detail = e.detail;
        if (detail) swallowEngine((t) => t.endsWith(detail));
        const who = e.type === 'vrrp.error' ? `(${e.instance}) ` : `${e.intf}: `;
        const key = `${e.type === 'vrrp.error' ? e.instance : e.intf}\u0000${e.counter}`;
        const rl = rateLimited(key, e.mono);
        if (!rl.ok) break;
        const text = detail ? `${who}${detail}` : `${who}bad VRRP packet${e.src ? ` from ${e.src}` : ''}: ${e.counter}`;
        const msg = `${text}${rl.suppressed ? ` [${rl.suppressed} similar suppressed]` : ''}`;
        const fields = e.type === 'vrrp.error' ? { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, counter: e.counter, src: e.src, detail: e.detail, suppressed: rl.suppressed } : { ...base, intf: e.intf, counter: e.counter, src: e.src, detail: e.detail, suppressed: rl.suppressed };
        emit({ level: 'warn', msg, fields });
        break;
      }
      case 'vrrp.stats_cleared':
        emit({ level: 'debug', msg: `(${e.instance}) statistics cleared`, fields: { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf }, lines: [] });
        break;
      case 'track.script': {
        const fields = { ...base, name: e.name, result: e.result, exitCode: e.exitCode, durationMs: e.durationMs, status: e.status };
        // keepalived vrrp_scheduler.c vrrp_script_child_thread: "Script `X` now returning N"
        // whenever the exit status changes (last_status starts at 0).
        if (e.exitCode !== null) {
          const prevExit = scriptExit.get(e.name) ?? 0;
          scriptExit.set(e.name, e.exitCode);
          if (e.exitCode !== prevExit) emit({ level: 'info', msg: `Script \`${e.name}\` now returning ${e.exitCode}`, fields });
        }
        const prev = scriptStatus.get(e.name) ?? 'init';
        scriptStatus.set(e.name, e.status);
        // the tracker says when the result crossed rise/fall (`changed`); else infer it
        const becameGood = e.changed !== undefined ? e.changed === 'good' : e.status === 'good' && prev !== 'good';
        const becameBad = e.changed !== undefined ? e.changed === 'bad' : (e.status === 'bad' || e.status === 'init_failed') && prev !== e.status && prev !== 'bad';
        if (becameGood) {
          emit({ level: 'info', msg: `VRRP_Script(${e.name}) succeeded`, fields });
        } else if (becameBad) {
          const how = e.result === 'timeout' ? 'timed_out' : 'failed';
          const why = e.result === 'failure' && e.exitCode !== null && e.exitCode !== 0 ? ` (exited with status ${e.exitCode})` : '';
          emit({ level: 'info', msg: `VRRP_Script(${e.name}) ${how}${why}`, fields });
        } else emit({ level: 'debug', msg: `VRRP_Script(${e.name}) ran: ${e.result}`, fields, lines: [] });
        break;
      }
      case 'track.interface':
        emit({ level: 'info', msg: `Netlink reports ${e.intf} ${e.up ? 'up' : 'down'}`, fields: { ...base, intf: e.intf, up: e.up } });
        break;
      case 'track.file':
        emit({ level: 'info', msg: `Track file ${e.name} value ${e.value}`, fields: { ...base, name: e.name, value: e.value }, lines: [] });
        break;
      case 'track.process':
        emit({ level: 'info', msg: `Track process ${e.name}: ${e.running} running, quorum ${e.quorumMet ? 'gained' : 'lost'}`, fields: { ...base, name: e.name, running: e.running, quorumMet: e.quorumMet }, lines: [] });
        break;
      case 'notify.run': {
        const failed = !!e.error || (e.exitCode !== null && e.exitCode !== 0);
        const fields = { ...base, notifyEvent: e.event, target: e.target, command: e.command, exitCode: e.exitCode, durationMs: e.durationMs, error: e.error };
        if (failed) emit({ level: 'warn', msg: `Notify script ${e.command} for ${e.target} ${e.event} failed: ${e.error ?? `exit status ${e.exitCode}`}`, fields });
        else emit({ level: 'debug', msg: `Notify script ${e.command} for ${e.target} ${e.event} done`, fields, lines: [] });
        break;
      }
      case 'notify.fifo':
        if (!e.ok) emit({ level: 'warn', msg: `Notify FIFO ${e.path} write failed: ${e.error ?? 'error'}`, fields: { ...base, path: e.path, line: e.line, error: e.error } });
        break;
      case 'checker.result':
        if (e.result !== 'success')
          emit({
            level: 'debug',
            msg: `${e.checker} on service ${fmtService(e.realServer)} of VS ${fmtService(e.virtualServer)}: ${e.result}${e.detail ? ` (${e.detail})` : ''}`,
            fields: { ...base, virtualServer: e.virtualServer, realServer: e.realServer, checker: e.checker, result: e.result, durationMs: e.durationMs, detail: e.detail, checkerUp: e.checkerUp },
            lines: [],
          });
        break;
      case 'realserver.state':
        // keepalived check/ipwrapper.c update_svr_checker_state: "%sing service %s %s VS %s"
        emit({
          level: 'info',
          msg: `${e.up ? 'Adding' : 'Removing'} service ${e.kaRealServer ?? fmtService(e.realServer)} ${e.up ? 'to' : 'from'} VS ${e.kaVirtualServer ?? fmtService(e.virtualServer)}`,
          fields: { ...base, virtualServer: e.virtualServer, realServer: e.realServer, up: e.up, weight: e.weight, reason: e.reason, failedCheckers: e.failedCheckers },
        });
        break;
      case 'realserver.weight':
        // keepalived ipwrapper.c update_svr_wgt
        emit({
          level: 'info',
          msg: `Changing weight from ${e.from} to ${e.to} for service ${fmtService(e.realServer)} of VS ${fmtService(e.virtualServer)}`,
          fields: { ...base, virtualServer: e.virtualServer, realServer: e.realServer, from: e.from, to: e.to, reason: e.reason },
        });
        break;
      case 'virtualserver.quorum': {
        const vs = e.kaVirtualServer ?? fmtService(e.virtualServer);
        const fields = { ...base, virtualServer: e.virtualServer, met: e.met, up: e.up, configured: e.configured, sorry: e.sorry, weightSum: e.weightSum, quorum: e.quorum, hysteresis: e.hysteresis };
        let msg: string;
        if (e.quorum !== undefined && e.weightSum !== undefined) {
          // keepalived ipwrapper.c update_quorum_state: threshold = quorum ± hysteresis
          const h = e.hysteresis ?? 0;
          msg = e.met ? `Gained quorum ${e.quorum}+${h}=${e.quorum + h} <= ${e.weightSum} for VS ${vs}` : `Lost quorum ${e.quorum}-${h}=${e.quorum - h} > ${e.weightSum} for VS ${vs}`;
        } else msg = `${e.met ? 'Gained' : 'Lost'} quorum (${e.up}/${e.configured} up) for VS ${vs}`;
        emit({ level: e.met ? 'info' : 'warn', msg, fields });
        break;
      }
      case 'vrrp.notify':
      case 'vrrp.group_notify':
        // keepalived logs nothing for a notify occasion; the notify.run/notify.fifo outcomes are logged
        emit({
          level: 'debug',
          msg: e.type === 'vrrp.notify' ? `(${e.instance}) notify ${e.state}` : `VRRP_Group(${e.group}) notify ${e.state}`,
          fields: e.type === 'vrrp.notify' ? { ...base, instance: e.instance, vrid: e.vrid, intf: e.intf, state: e.state, priority: e.priority } : { ...base, group: e.group, state: e.state },
          lines: [],
        });
        break;
      case 'ipvs.apply':
        if (e.ok) emit({ level: 'debug', msg: `IPVS ${e.op} ${e.target}`, fields: { ...base, op: e.op, target: e.target, virtualServer: e.virtualServer, weight: e.weight, durationMs: e.durationMs }, lines: [] });
        else emit({ level: 'error', msg: `IPVS ${e.op} ${e.target} failed: ${e.error ?? 'error'}`, fields: { ...base, op: e.op, target: e.target, virtualServer: e.virtualServer, error: e.error } });
        break;
      case 'snmp.agentx':
        emit({
          level: e.connected ? 'info' : 'warn',
          msg: e.connected ? 'AgentX subagent connected' : `AgentX subagent disconnected${e.error ? `: ${e.error}` : ''}`,
          fields: { ...base, connected: e.connected, reconnects: e.reconnects, error: e.error, socket: e.socket, recoveryMs: e.recoveryMs },
        });
        break;
      case 'snmp.notification':
        emit({
          level: e.ok ? 'debug' : 'warn',
          msg: `SNMP notification ${e.notification} ${e.ok ? 'sent' : `failed${e.error ? `: ${e.error}` : ''}`}`,
          fields: { ...base, notification: e.notification, ok: e.ok, error: e.error },
          lines: e.ok ? [] : undefined,
        });
        break;
      case 'config.loaded':
        emit({ level: 'info', msg: `Configuration file ${e.file}`, fields: { ...base, file: e.file, instances: e.instances, virtualServers: e.virtualServers, warnings: e.warnings } });
        break;
      case 'config.error':
        for (const d of e.diagnostics) {
          emit({ level: d.severity === 'error' ? 'error' : 'warn', msg: `${d.file}:${d.line}: ${d.message}`, fields: { ...base, file: d.file, line: d.line, severity: d.severity } });
        }
        if (e.diagnostics.length === 0) emit({ level: 'error', msg: `Configuration file ${e.file} has errors`, fields: { ...base, file: e.file } });
        break;
      case 'config.reload': {
        const fields = { ...base, result: e.result, file: e.file, durationMs: e.durationMs, added: e.added, removed: e.removed, changed: e.changed, error: e.error };
        if (e.result === 'success') emit({ level: 'info', msg: `Reload finished (${e.file}: ${e.added.length} added, ${e.removed.length} removed, ${e.changed.length} changed)`, fields });
        else emit({ level: 'error', msg: `Reload of ${e.file} failed${e.error ? `: ${e.error}` : ''} - keeping the running configuration`, fields });
        break;
      }
      case 'daemon.start':
        emit({ level: 'info', msg: `Starting keepwatch v${e.version}`, fields: { ...base, pid: e.pid, version: e.version } });
        break;
      case 'daemon.stop':
        emit({ level: 'info', msg: 'Stopping', fields: { ...base, signal: e.signal } });
        break;
      case 'daemon.signal': {
        const pid = process.pid;
        // keepalived vrrp_daemon.c sigusr1_vrrp / sigusr2_vrrp / sigjson_vrrp, main.c reload
        const known: Record<string, string> = {
          DATA: `Printing VRRP data for process(${pid}) on signal`,
          STATS: `Printing VRRP stats for process(${pid}) on signal`,
          STATS_CLEAR: `Printing and clearing VRRP stats for process(${pid}) on signal`,
          JSON: `Printing VRRP as json for process(${pid}) on signal`,
          RELOAD: 'Reloading ...',
        };
        const msg = known[e.action] ?? known[e.signal] ?? `Received ${e.signal} (${e.action})`;
        emit({ level: 'info', msg, fields: { ...base, signal: e.signal, action: e.action }, lines: e.action === 'STOP' || e.signal === 'SIGTERM' ? [] : undefined });
        break;
      }
      case 'dump.written':
        emit({ level: 'debug', msg: `Wrote ${e.path}`, fields: { ...base, kind: e.kind, path: e.path }, lines: [] });
        break;
      default:
        break;
    }
  };
  return journal.subscribe(onEvent);
}
