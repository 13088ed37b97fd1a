/**
 * Real Debian net-snmp daemons for the SNMP tests: snmpd as AgentX master and snmptrapd as
 * trap receiver, each in the foreground with its own config in a temp dir, no MIBs loaded
 * (MIBS= — Debian ships none of the IETF MIBs), numeric OIDs, loopback only, and the
 * persistent-state dir redirected so nothing under /var/lib/snmp is touched. Processes are
 * ours alone and are stopped by PID.
 *
 * Also: snmpwalk / snmpbulkwalk / snmpget / snmpset runners and a parser for their -On
 * output ("OID = TYPE: value").
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './netns';

// The command-line tools keep persistent state too (cert_indexes/, snmpapp.conf): point
// them at one fixed scratch dir so nothing is written under /var/lib/snmp.
const toolState = join(tmpdir(), 'kw-snmp-tools');
mkdirSync(toolState, { recursive: true });
const ENV = { ...process.env, MIBS: '', MIBDIRS: '/nonexistent', SNMP_PERSISTENT_DIR: toolState };

function envFor(dir: string): NodeJS.ProcessEnv {
  const persist = join(dir, 'persist');
  mkdirSync(persist, { recursive: true });
  return { ...ENV, SNMP_PERSISTENT_DIR: persist, SNMPCONFPATH: dir };
}

export interface Daemon {
  pid: number;
  proc: ChildProcess;
  /** stdout+stderr lines so far */
  log: string[];
  /** SIGTERM by PID, SIGKILL after 5 s; resolves when the process has exited */
  stop(): Promise<void>;
}

function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv): Daemon {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  let partial = '';
  const onData = (b: Buffer) => {
    const text = partial + b.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    log.push(...lines);
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  if (proc.pid === undefined) throw new Error(`${cmd} failed to start`);
  const pid = proc.pid;
  return {
    pid,
    proc,
    log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface SnmpdOptions {
  /** private temp dir (config, pid file, persistent state, default socket) */
  dir: string;
  /** UDP port on 127.0.0.1 for SNMP requests */
  port: number;
  /** AgentX master socket path; default DIR/agentx.sock */
  agentxSocket?: string;
  /** send SNMPv2 traps to 127.0.0.1:trapPort (community public) */
  trapPort?: number;
  /** seconds the master waits for a subagent answer (agentXTimeout); default 5 */
  agentxTimeout?: number;
}

export interface Snmpd extends Daemon {
  port: number;
  socket: string;
  target: string;
  /** performance.now() when the AgentX socket was first seen (the master accepts subagents) */
  socketAt: number;
}

/** Start snmpd as AgentX master and wait until it answers on UDP and its socket exists. */
export async function startSnmpd(o: SnmpdOptions): Promise<Snmpd> {
  const socket = o.agentxSocket ?? join(o.dir, 'agentx.sock');
  const conf = join(o.dir, 'snmpd.conf');
  writeFileSync(
    conf,
    [
      `agentaddress udp:127.0.0.1:${o.port}`,
      'master agentx',
      `agentXSocket unix:${socket}`,
      'agentXPerms 0660 0770',
      `agentXTimeout ${o.agentxTimeout ?? 5}`,
      'agentXRetries 1',
      'rocommunity public 127.0.0.1',
      'rwcommunity private 127.0.0.1',
      ...(o.trapPort ? [`trap2sink 127.0.0.1:${o.trapPort} public`] : []),
      '',
    ].join('\n'),
  );
  // -f foreground, -C only our config, -Lo log to stdout, -p pid file
  const d = launch('/usr/sbin/snmpd', ['-f', '-C', '-c', conf, '-Lo', '-p', join(o.dir, 'snmpd.pid')], envFor(o.dir));
  const target = `127.0.0.1:${o.port}`;
  let socketAt = 0;
  try {
    await waitFor(() => {
      if (d.proc.exitCode !== null) throw new Error(`snmpd exited: ${d.log.join('\n')}`);
      return existsSync(socket);
    }, 'snmpd AgentX socket', 20_000, 5);
    socketAt = performance.now();
    await waitFor(async () => (await snmpCmd('snmpget', ['-t', '0.3', '-r', '0', target, '.1.3.6.1.2.1.1.3.0'])).code === 0, 'snmpd answering SNMP', 20_000, 50);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return { ...d, port: o.port, socket, target, socketAt };
}

/**
 * Start snmpd with an operator's config text as is (e.g. the README's snmpd.conf, with
 * only the socket path and listen address substituted), optionally inside a network
 * namespace (`ip netns exec` execs snmpd, so the PID is snmpd's own). Resolves once the
 * AgentX socket exists and `target` answers an SNMP get (from inside `netns` when given).
 */
export async function startSnmpdWithConfig(o: { dir: string; config: string; socket: string; target: string; netns?: string }): Promise<Snmpd> {
  const conf = join(o.dir, 'snmpd.conf');
  writeFileSync(conf, o.config);
  const args = ['-f', '-C', '-c', conf, '-Lo', '-p', join(o.dir, 'snmpd.pid')];
  const d = o.netns ? launch('ip', ['netns', 'exec', o.netns, '/usr/sbin/snmpd', ...args], envFor(o.dir)) : launch('/usr/sbin/snmpd', args, envFor(o.dir));
  let socketAt = 0;
  try {
    await waitFor(() => {
      if (d.proc.exitCode !== null) throw new Error(`snmpd exited: ${d.log.join('\n')}`);
      return existsSync(o.socket);
    }, 'snmpd AgentX socket', 20_000, 5);
    socketAt = performance.now();
    await waitFor(async () => (await snmpCmdIn(o.netns, 'snmpget', ['-t', '0.3', '-r', '0', o.target, '.1.3.6.1.2.1.1.3.0'])).code === 0, 'snmpd answering SNMP', 20_000, 50);
  } catch (e) {
    await d.stop();
    throw e;
  }
  const port = Number(/:(\d+)$/.exec(o.target)?.[1] ?? 161);
  return { ...d, port, socket: o.socket, target: o.target, socketAt };
}

export interface Snmptrapd extends Daemon {
  port: number;
  /** received notifications, parsed */
  traps(): Trap[];
}

export interface Trap {
  varbinds: Varbind[];
  trapOid?: string;
  raw: string;
}

/** Start snmptrapd on 127.0.0.1:port, logging one line per notification. */
export async function startSnmptrapd(o: { dir: string; port: number }): Promise<Snmptrapd> {
  const conf = join(o.dir, 'snmptrapd.conf');
  writeFileSync(conf, 'disableAuthorization yes\n');
  const d = launch(
    '/usr/sbin/snmptrapd',
    ['-f', '-C', '-c', conf, '-Lo', '-On', '-p', join(o.dir, 'snmptrapd.pid'), '-F', 'TRAP|%V~~%v\n', `udp:127.0.0.1:${o.port}`],
    envFor(o.dir),
  );
  await waitFor(() => {
    if (d.proc.exitCode !== null) throw new Error(`snmptrapd exited: ${d.log.join('\n')}`);
    return d.log.some((l) => /NET-SNMP version/.test(l));
  }, 'snmptrapd listening', 20_000);
  return {
    ...d,
    port: o.port,
    traps: () =>
      d.log
        .filter((l) => l.startsWith('TRAP|'))
        .map((l) => {
          const varbinds = l
            .slice(5)
            .split('~~')
            .map((x) => parseLine(x.trim()))
            .filter((v): v is Varbind => v !== undefined);
          return { raw: l, varbinds, trapOid: varbinds.find((v) => v.oid === '.1.3.6.1.6.3.1.1.4.1.0')?.value };
        }),
  };
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a net-snmp command line tool with -v2c -On and no MIBs; never throws. */
export function snmpCmd(tool: 'snmpget' | 'snmpwalk' | 'snmpbulkwalk' | 'snmpset' | 'snmpgetnext', args: string[], community = 'public'): Promise<CmdResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(tool, ['-v2c', '-c', community, '-On', ...args], { env: ENV, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - t0 });
    });
  });
}

/** snmpCmd run inside network namespace `netns` (`ip netns exec`), or here when undefined. */
export function snmpCmdIn(netns: string | undefined, tool: 'snmpget' | 'snmpwalk' | 'snmpbulkwalk' | 'snmpset' | 'snmpgetnext', args: string[], community = 'public'): Promise<CmdResult> {
  if (!netns) return snmpCmd(tool, args, community);
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, tool, '-v2c', '-c', community, '-On', ...args], { env: ENV, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: performance.now() - t0 });
    });
  });
}

/** The environment the SNMP command line tools run with here (no MIBs, private persistent dir). */
export const SNMP_TOOL_ENV = ENV;

export interface Varbind {
  oid: string;
  /** "INTEGER", "STRING", "Hex-STRING", "Gauge32", "Counter64", "Timeticks", "IpAddress", "" (empty string) … */
  type: string;
  value: string;
}

/** One "OID = TYPE: value" line of -On output. */
export function parseLine(line: string): Varbind | undefined {
  const m = /^(\.[\d.]+) = (?:([A-Za-z][A-Za-z0-9-]*): ?)?(.*)$/.exec(line);
  if (!m) return undefined;
  return { oid: m[1], type: m[2] ?? '', value: (m[3] ?? '').trim() };
}

/** Parse a walk (or multi-OID get) output; continuation lines (long Hex-STRINGs) are joined. */
export function parseWalk(text: string): Varbind[] {
  const out: Varbind[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const v = parseLine(line);
    if (v) out.push(v);
    else if (out.length) out[out.length - 1].value += ' ' + line.trim();
  }
  return out;
}
