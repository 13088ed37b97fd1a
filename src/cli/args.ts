/**
 * keepalived-compatible command line (keepalived 2.2.7 core/main.c parse_cmdline(),
 * getopt_long semantics): short options may be bundled (-nlD), take their argument
 * attached or as the next word (-f FILE, -fFILE), optional arguments only attached
 * (-tFILE, --config-test=FILE), long options as --name=value or --name value.
 * keepwatch adds a few long options of its own (--dump-config, --web.*, --tracing,
 * --log-level); everything keepalived users type keeps its meaning.
 */

export interface CliOptions {
  useFile: string;
  vrrpOnly: boolean;
  checkOnly: boolean;
  noBfd: boolean;
  all: boolean;
  logConsole: boolean;
  logDetail: number;
  logFacility: string;
  noSyslog: boolean;
  umask?: number;
  releaseVips: boolean;
  dontReleaseVrrp: boolean;
  dontReleaseIpvs: boolean;
  dontRespawn: boolean;
  dontFork: boolean;
  dumpConf: boolean;
  pidFile: string;
  vrrpPidFile: string;
  checkersPidFile: string;
  bfdPidFile: string;
  addressMonitoring: boolean;
  snmp: boolean;
  snmpAgentSocket?: string;
  namespace?: string;
  coreDump: boolean;
  corePattern?: string;
  allConfig: boolean;
  configId?: string;
  signum?: string;
  configTest: boolean;
  configTestLog?: string;
  version: boolean;
  help: boolean;
  // keepwatch's own
  dumpConfig: boolean;
  webListenAddress: string;
  webTelemetryPath: string;
  webConfigFile?: string;
  tracing: boolean;
  /** SNMP SET of vrrpInstanceBasePriority / vrrpInstancePreempt allowed */
  snmpWritable: boolean;
  logLevel: string;
  /** options accepted for compatibility that have no effect here (reported in the log) */
  ignored: string[];
}

export class UsageError extends Error {}

type Kind = 'flag' | 'req' | 'opt';
interface Spec {
  short?: string;
  long: string[];
  kind: Kind;
  apply(o: CliOptions, v: string | undefined): void;
}

const LOG_FACILITIES = /^([0-7]|local[0-7]|user|daemon)$/;

const SPECS: Spec[] = [
  { short: 'f', long: ['use-file'], kind: 'req', apply: (o, v) => (o.useFile = v!) },
  { short: 'P', long: ['vrrp'], kind: 'flag', apply: (o) => (o.vrrpOnly = true) },
  { short: 'C', long: ['check'], kind: 'flag', apply: (o) => (o.checkOnly = true) },
  { short: 'B', long: ['no_bfd'], kind: 'flag', apply: (o) => (o.noBfd = true) },
  { long: ['all'], kind: 'flag', apply: (o) => (o.all = true) },
  { short: 'l', long: ['log-console'], kind: 'flag', apply: (o) => (o.logConsole = true) },
  { short: 'D', long: ['log-detail'], kind: 'flag', apply: (o) => o.logDetail++ },
  {
    short: 'S',
    long: ['log-facility'],
    kind: 'req',
    apply: (o, v) => {
      if (!LOG_FACILITIES.test(v!)) throw new UsageError(`invalid log facility '${v}' (expected 0-7, local0-7, user or daemon)`);
      o.logFacility = v!;
    },
  },
  { short: 'g', long: ['log-file'], kind: 'opt', apply: (o) => o.ignored.push('--log-file') },
  { long: ['flush-log-file'], kind: 'flag', apply: (o) => o.ignored.push('--flush-log-file') },
  // keepalived's -G is --no-syslog; --no-namespace is accepted as an alias because the
  // keepwatch issue tracker and some wrappers spell it that way.
  { short: 'G', long: ['no-syslog', 'no-namespace'], kind: 'flag', apply: (o) => (o.noSyslog = true) },
  {
    short: 'u',
    long: ['umask'],
    kind: 'req',
    apply: (o, v) => {
      const n = /^0[0-7]*$/.test(v!) ? parseInt(v!, 8) : /^0x[0-9a-f]+$/i.test(v!) ? parseInt(v!, 16) : /^[0-9]+$/.test(v!) ? parseInt(v!, 10) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > 0o777) throw new UsageError(`invalid umask '${v}'`);
      o.umask = n;
    },
  },
  { short: 'X', long: ['release-vips'], kind: 'flag', apply: (o) => (o.releaseVips = true) },
  { short: 'V', long: ['dont-release-vrrp'], kind: 'flag', apply: (o) => (o.dontReleaseVrrp = true) },
  { short: 'I', long: ['dont-release-ipvs'], kind: 'flag', apply: (o) => (o.dontReleaseIpvs = true) },
  { short: 'R', long: ['dont-respawn'], kind: 'flag', apply: (o) => (o.dontRespawn = true) },
  { short: 'n', long: ['dont-fork'], kind: 'flag', apply: (o) => (o.dontFork = true) },
  { short: 'd', long: ['dump-conf'], kind: 'flag', apply: (o) => (o.dumpConf = true) },
  { short: 'p', long: ['pid'], kind: 'req', apply: (o, v) => (o.pidFile = v!) },
  { short: 'r', long: ['vrrp_pid'], kind: 'req', apply: (o, v) => (o.vrrpPidFile = v!) },
  { short: 'c', long: ['checkers_pid'], kind: 'req', apply: (o, v) => (o.checkersPidFile = v!) },
  { short: 'b', long: ['bfd_pid'], kind: 'req', apply: (o, v) => (o.bfdPidFile = v!) },
  {
    short: 'T',
    long: ['genhash'],
    kind: 'flag',
    apply: () => {
      throw new UsageError('genhash mode (-T/--genhash) is not supported by keepwatch');
    },
  },
  { short: 'a', long: ['address-monitoring'], kind: 'flag', apply: (o) => (o.addressMonitoring = true) },
  { short: 'x', long: ['snmp'], kind: 'flag', apply: (o) => (o.snmp = true) },
  { short: 'A', long: ['snmp-agent-socket'], kind: 'req', apply: (o, v) => (o.snmpAgentSocket = v!) },
  { short: 's', long: ['namespace'], kind: 'req', apply: (o, v) => (o.namespace = v!) },
  { short: 'm', long: ['core-dump'], kind: 'flag', apply: (o) => (o.coreDump = true) },
  { short: 'M', long: ['core-dump-pattern'], kind: 'opt', apply: (o, v) => ((o.coreDump = true), (o.corePattern = v ?? 'core')) },
  { short: 'e', long: ['all-config'], kind: 'flag', apply: (o) => (o.allConfig = true) },
  { short: 'i', long: ['config-id'], kind: 'req', apply: (o, v) => (o.configId = v!) },
  { long: ['signum'], kind: 'req', apply: (o, v) => (o.signum = v!) },
  { short: 't', long: ['config-test'], kind: 'opt', apply: (o, v) => ((o.configTest = true), (o.configTestLog = v)) },
  { long: ['perf'], kind: 'opt', apply: (o) => o.ignored.push('--perf') },
  { long: ['debug'], kind: 'opt', apply: (o) => o.ignored.push('--debug') },
  { long: ['no-mem-check'], kind: 'flag', apply: (o) => o.ignored.push('--no-mem-check') },
  { short: 'v', long: ['version'], kind: 'flag', apply: (o) => (o.version = true) },
  { short: 'h', long: ['help'], kind: 'flag', apply: (o) => (o.help = true) },
  // keepwatch
  { long: ['dump-config'], kind: 'flag', apply: (o) => (o.dumpConfig = true) },
  { long: ['web.listen-address'], kind: 'req', apply: (o, v) => (o.webListenAddress = v!) },
  { long: ['web.telemetry-path'], kind: 'req', apply: (o, v) => (o.webTelemetryPath = v!.startsWith('/') ? v! : `/${v}`) },
  { long: ['web.config.file'], kind: 'req', apply: (o, v) => (o.webConfigFile = v!) },
  { long: ['tracing'], kind: 'flag', apply: (o) => (o.tracing = true) },
  { long: ['snmp.writable'], kind: 'flag', apply: (o) => (o.snmpWritable = true) },
  {
    long: ['log-level'],
    kind: 'req',
    apply: (o, v) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(v!)) throw new UsageError(`invalid log level '${v}'`);
      o.logLevel = v!;
    },
  },
];

export function defaultOptions(): CliOptions {
  return {
    useFile: '/etc/keepalived/keepalived.conf',
    vrrpOnly: false,
    checkOnly: false,
    noBfd: false,
    all: false,
    logConsole: false,
    logDetail: 0,
    logFacility: 'daemon',
    noSyslog: false,
    releaseVips: false,
    dontReleaseVrrp: false,
    dontReleaseIpvs: false,
    dontRespawn: false,
    dontFork: false,
    dumpConf: false,
    pidFile: '/run/keepalived.pid',
    vrrpPidFile: '/run/keepalived_vrrp.pid',
    checkersPidFile: '/run/keepalived_checkers.pid',
    bfdPidFile: '/run/keepalived_bfd.pid',
    addressMonitoring: false,
    snmp: false,
    coreDump: false,
    allConfig: false,
    configTest: false,
    version: false,
    help: false,
    dumpConfig: false,
    webListenAddress: ':9165',
    webTelemetryPath: '/metrics',
    tracing: false,
    snmpWritable: false,
    logLevel: 'info',
    ignored: [],
  };
}

const byShort = new Map(SPECS.filter((s) => s.short).map((s) => [s.short!, s]));

function findLong(name: string): Spec {
  const exact = SPECS.find((s) => s.long.includes(name));
  if (exact) return exact;
  // getopt_long accepts unambiguous prefixes of long options.
  const pref = SPECS.filter((s) => s.long.some((l) => l.startsWith(name)));
  if (pref.length === 1 && name.length > 0) return pref[0];
  if (pref.length > 1) throw new UsageError(`option '--${name}' is ambiguous`);
  throw new UsageError(`Unknown option --${name}`);
}

export function parseArgs(argv: string[]): CliOptions {
  const o = defaultOptions();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument '${argv[i + 1]}'`);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = findLong(name);
      let v: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (spec.kind === 'flag' && v !== undefined) throw new UsageError(`option '--${name}' doesn't allow an argument`);
      if (spec.kind === 'req' && v === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option '--${name}' requires an argument`);
        v = argv[++i];
      }
      spec.apply(o, v);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j]);
        if (!spec) throw new UsageError(`invalid option -- '${a[j]}'`);
        if (spec.kind === 'flag') {
          spec.apply(o, undefined);
          continue;
        }
        const rest = a.slice(j + 1);
        if (spec.kind === 'opt') {
          spec.apply(o, rest.length ? rest : undefined);
        } else if (rest.length) {
          spec.apply(o, rest);
        } else {
          if (i + 1 >= argv.length) throw new UsageError(`option requires an argument -- '${a[j]}'`);
          spec.apply(o, argv[++i]);
        }
        break;
      }
      continue;
    }
    throw new UsageError(`unexpected argument '${a}'`);
  }
  if (o.vrrpOnly && o.checkOnly) {
    // keepalived: -P and -C together mean "both", as if neither was given.
    o.vrrpOnly = o.checkOnly = false;
  }
  return o;
}

export const USAGE = `Usage: keepwatch [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '/etc/keepalived/keepalived.conf'
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -B, --no_bfd                 Don't run BFD subsystem (accepted; BFD is not supported)
      --all                    Force all subsystems to run, even if they have no configuration
  -l, --log-console            Log messages to the console in keepalived's format
  -D, --log-detail             Detailed log messages
  -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                               Syslog facility (accepted for compatibility; logs go to stdout)
  -G, --no-syslog              Don't log via syslog (alias --no-namespace)
  -u, --umask=MASK             umask for file creation (in numeric form)
  -X, --release-vips           Drop VIP on transition from signal.
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes (accepted; keepwatch is one process)
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Dump the configuration data to the log
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP process
  -c, --checkers_pid=FILE      Use specified pidfile for checkers process
  -b, --bfd_pid=FILE           Use specified pidfile for BFD process
  -a, --address-monitoring     Report all address additions/deletions notified via netlink
  -x, --snmp                   Enable SNMP subsystem (AgentX)
  -A, --snmp-agent-socket=FILE Use the specified socket for master agent
  -s, --namespace=NAME         Run in network namespace NAME (overrides config)
  -m, --core-dump              Produce core dump if terminate abnormally
  -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
  -e, --all-config             Error if any configuration file missing (same as includea)
  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                or any lines beginning @^ that do match.
                                The config-id defaults to the node name if option not used
      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message
keepwatch options:
      --dump-config            Print the parsed configuration model as JSON and exit
      --web.listen-address=ADDR  HTTP listen address for /metrics, /json, /healthz (default ':9165')
      --web.telemetry-path=PATH  Path of the metrics endpoint (default '/metrics')
      --web.config.file=FILE   Prometheus exporter-toolkit web config (TLS, basic auth)
      --tracing                Enable OpenTelemetry tracing (also on when OTEL_EXPORTER_OTLP_ENDPOINT
                                or OTEL_TRACES_EXPORTER is set)
      --snmp.writable          Allow SNMP SET of vrrpInstanceBasePriority, vrrpInstancePreempt
                                and realServerWeight
      --log-level=LEVEL        fatal, error, warn, info (default), debug, trace
`;
