/**
 * Health-checker configuration as the checker engine consumes it: every value resolved
 * (keepalived's checker -> real_server -> virtual_server -> checker-type default chain,
 * keepalived 2.2.7 check/check_data.c:validate_check_config), times in milliseconds.
 */

export type CheckerKind = 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'DNS_CHECK';

/** Timing and retry behaviour shared by all checkers (check_api.c install_checker_common_keywords). */
export interface CheckerTiming {
  /** interval between checks while nothing is wrong; keepalived default 60 s */
  delayLoopMs: number;
  /** extra attempts after a failure before declaring the checker down */
  retry: number;
  delayBeforeRetryMs: number;
  /** the first check runs after 1 s + random(0..warmup); keepalived default = delay_loop */
  warmupMs: number;
  /** start as failed: the real server is down until its first successful check */
  alpha: boolean;
  logAllFailures: boolean;
}

/** Where a network checker connects (check_api.c conn_opts_t). */
export interface ConnectOptions {
  /** connect_ip, default the real server address */
  connectIp: string;
  /** connect_port, default the real server port */
  connectPort: number;
  /** bindto: source address */
  bindto?: string;
  /** bind_port: source port */
  bindPort?: number;
  /**
   * bind_if / fwmark are accepted for compatibility; Node sockets cannot set
   * SO_BINDTODEVICE / SO_MARK, so the probes ignore them (reported once as a warning).
   */
  bindIf?: string;
  fwmark?: number;
  /** connect_timeout (also the whole-exchange timeout, as keepalived uses it); default 5 s */
  connectTimeoutMs: number;
}

export interface TcpCheckSpec extends CheckerTiming, ConnectOptions {
  kind: 'TCP_CHECK';
}

/** One `url { }` block of HTTP_GET / SSL_GET. */
export interface UrlSpec {
  path: string;
  /** lower-case hex MD5 of the body (keepalived `digest`, computed with genhash) */
  digest?: string;
  /** accepted status ranges, inclusive; keepalived default 200-299 */
  statusCodes: Array<[number, number]>;
  virtualhost?: string;
  /** keepalived `regex` (PCRE2 there, JavaScript RegExp here) */
  regex?: string;
  regexNoMatch?: boolean;
}

export interface HttpCheckSpec extends CheckerTiming, ConnectOptions {
  kind: 'HTTP_GET' | 'SSL_GET';
  /** '1.0' (default), '1.0C' (1.0 + Connection: close), '1.1' (adds Connection: close too) */
  httpProtocol: '1.0' | '1.0C' | '1.1';
  /** Host header when the URL has none (checker, then real server, then virtual server) */
  virtualhost?: string;
  /** SSL_GET: send the virtualhost as TLS SNI */
  enableSni: boolean;
  urls: UrlSpec[];
  fastRecovery: boolean;
  /** keepalived global `SSL { }` block: optional CA/cert/key for the client context */
  tls?: { ca?: string; certificate?: string; key?: string; password?: string };
}

export interface MiscCheckSpec extends CheckerTiming {
  kind: 'MISC_CHECK';
  /** misc_path: the command line, run without a shell (quoted words allowed) */
  path: string;
  /** misc_timeout; keepalived default = the virtual server's delay_loop */
  timeoutMs: number;
  /** misc_dynamic: exit 2..255 = success with weight (exit - 2) */
  dynamic: boolean;
  user?: string;
  group?: string;
}

export type DnsType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';

export interface DnsCheckSpec extends CheckerTiming, ConnectOptions {
  kind: 'DNS_CHECK';
  /** default SOA */
  type: DnsType;
  /** default "." */
  name: string;
}

export type CheckerSpec = TcpCheckSpec | HttpCheckSpec | MiscCheckSpec | DnsCheckSpec;

/** What one probe concluded. */
export interface ProbeOutcome {
  ok: boolean;
  /** the failure was a timeout (connect, read, script) rather than a refusal/mismatch */
  timeout?: boolean;
  detail?: string;
  /** MISC_CHECK: the script's exit status (null when killed) */
  exitCode?: number | null;
}

/** Per-checker-type defaults (check_*.c: default_retry, default_delay_before_retry). */
export function defaultRetry(kind: CheckerKind): number {
  if (kind === 'DNS_CHECK') return 3; // check_dns.c DNS_DEFAULT_RETRY
  if (kind === 'MISC_CHECK') return 0; // check_misc.c: checker->default_retry = 0
  return 1; // check_api.c queue_checker
}

/** null = "same as delay_loop" (DNS_CHECK sets default_delay_before_retry = 0). */
export function defaultDelayBeforeRetryMs(kind: CheckerKind): number | null {
  if (kind === 'HTTP_GET' || kind === 'SSL_GET') return 3000; // check_http.c: 3 * TIMER_HZ
  if (kind === 'DNS_CHECK') return null;
  return 1000;
}

export const DEFAULT_DELAY_LOOP_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** keepalived check_api.c BOOTSTRAP_DELAY: first check 1 s after start (+ warmup). */
export const BOOTSTRAP_DELAY_MS = 1_000;
