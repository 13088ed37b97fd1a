import { describe, expect, it } from 'vitest';
import { load } from './config-model-host';
import type { Checker } from '../../src/config/model';

const errs = (r: ReturnType<typeof load>): string[] => r.diagnostics.filter((d) => d.code !== 'LOG').map((d) => d.message);
const SEC = 'global_defs {\n    enable_script_security\n    script_user root\n}\n';

function vs(body: string, rs = '    real_server 192.0.2.201 80 {\n        TCP_CHECK {\n        }\n    }', addr = '192.0.2.100 80'): string {
  return `virtual_server ${addr} {\n${body}\n${rs}\n}\n`;
}

describe('virtual_server defaults (check_data.c alloc_vs + validate_check_config)', () => {
  it('a virtual server with everything set is accepted', () => {
    const r = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT'));
    expect(r.exitCode).toBe(0);
    const v = r.config!.virtualServers[0];
    expect(v).toMatchObject({
      kind: 'address',
      address: '192.0.2.100',
      port: 80,
      family: 'inet',
      protocol: 'TCP',
      lbAlgo: 'rr',
      forwarding: { method: 'NAT' },
      persistenceTimeoutS: 0,
      delayLoopMs: 60000,
      connectTimeoutMs: 5000,
      quorum: 1,
      hysteresis: 0,
      weight: 1,
      alpha: false,
      omega: false,
      inhibitOnFailure: false,
      haSuspend: false,
      smtpAlert: false,
    });
    expect(v.realServers[0]).toMatchObject({ address: '192.0.2.201', port: 80, weight: 1, forwarding: { method: 'NAT' }, smtpAlert: true, inhibitOnFailure: false, alpha: false });
  });

  it('missing protocol, lb_algo and lb_kind default to UDP, wlc and NAT with errors', () => {
    const r = load(vs(''));
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toEqual([
      'Virtual server [192.0.2.100]:none:80: no protocol set - defaulting to UDP',
      "Virtual server [192.0.2.100]:udp:80: no scheduler set, setting default 'wlc'",
      'Virtual server [192.0.2.100]:udp:80: no forwarding method set, setting default NAT',
    ]);
    expect(r.config!.virtualServers[0]).toMatchObject({ protocol: 'UDP', lbAlgo: 'wlc', forwarding: { method: 'NAT' } });
  });

  it('bare persistence_timeout means 360 s; port 0 forces persistence', () => {
    expect(load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    persistence_timeout')).config!.virtualServers[0].persistenceTimeoutS).toBe(360);
    const z = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind DR', '    real_server 192.0.2.201 80 {\n    }', '192.0.2.100 0'));
    expect(z.config!.virtualServers[0].persistenceTimeoutS).toBe(360);
    expect(errs(z)).toContain('Virtual server [192.0.2.100]:tcp:0: zero port only valid for persistent services - setting');
  });

  it('rejects unknown schedulers and forwarding methods', () => {
    const r = load(vs('    protocol TCP\n    lb_algo roundrobin\n    lb_kind BRIDGE'));
    expect(errs(r)).toEqual(expect.arrayContaining(["Invalid lvs_scheduler 'roundrobin' - ignoring", 'PARSER : unknown [BRIDGE] routing method for virtual server.']));
  });

  it('DR real servers take the virtual server port', () => {
    const r = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind DR', '    real_server 192.0.2.201 8080 {\n    }'));
    expect(errs(r)).toEqual(['WARNING - virtual server [192.0.2.100]:tcp:80 and real server [192.0.2.201]:8080 ports don\'t match - resetting']);
    expect(r.config!.virtualServers[0].realServers[0].port).toBe(80);
  });

  it('quorum above the total weight is reduced; duplicate real servers removed', () => {
    const r = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    quorum 10', '    real_server 192.0.2.201 80 {\n        weight 3\n    }\n    real_server 192.0.2.201 80 {\n    }'));
    expect(errs(r)).toEqual([
      'VS [192.0.2.100]:tcp:80: real server [192.0.2.201]:tcp:80 is duplicated - removing second rs',
      'Warning - quorum 10 for [192.0.2.100]:tcp:80 exceeds total weight of real servers 3, reducing quorum to 3',
    ]);
    expect(r.config!.virtualServers[0]).toMatchObject({ quorum: 3 });
    expect(r.config!.virtualServers[0].realServers).toHaveLength(1);
  });

  it('a virtual server without real servers is dropped with an error', () => {
    const r = load('virtual_server 192.0.2.100 80 {\n    protocol TCP\n}\n');
    expect(errs(r)).toEqual(['Virtual server [192.0.2.100]:tcp:80 has no real servers - ignoring']);
    expect(r.config!.virtualServers).toEqual([]);
  });

  it('virtual_server_group entries and an unknown group (only logged)', () => {
    const r = load(
      'virtual_server_group G {\n    192.0.2.100 80\n    192.0.2.110-120 80\n    198.51.100.0/28 443\n    fwmark 7 inet\n}\n' +
        vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', '    real_server 192.0.2.201 80 {\n    }', 'group G') +
        vs('    protocol TCP', '    real_server 192.0.2.201 80 {\n    }', 'group MISSING'),
    );
    expect(r.exitCode).toBe(0);
    expect(r.config!.virtualServerGroups[0].entries).toEqual([
      { kind: 'address', address: '192.0.2.100', port: 80, family: 'inet' },
      { kind: 'range', address: '192.0.2.110', addressEnd: '192.0.2.120', port: 80, family: 'inet' },
      { kind: 'range', address: '198.51.100.0', addressEnd: '198.51.100.15', port: 443, family: 'inet' },
      { kind: 'fwmark', fwmark: 7, family: 'inet' },
    ]);
    expect(r.config!.virtualServers.map((v) => v.group)).toEqual(['G']);
    expect(r.diagnostics.some((d) => d.code === 'LOG' && d.message.startsWith('Virtual server group MISSING specified but not configured'))).toBe(true);
  });
});

describe('checkers (check_api.c common keywords + per-type defaults)', () => {
  const rsWith = (checkers: string): string => `    real_server 192.0.2.201 80 {\n        weight 2\n        delay_loop 10\n${checkers}\n    }`;
  const get = (text: string): Checker[] => {
    const r = load(text);
    expect(errs(r)).toEqual([]);
    return r.config!.virtualServers[0].realServers[0].checkers;
  };

  it('TCP_CHECK timing is resolved from checker, real server, then checker default', () => {
    const [c] = get(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', rsWith('        TCP_CHECK {\n            connect_timeout 3\n            connect_port 8080\n            bindto 192.0.2.2\n        }')));
    expect(c).toMatchObject({ type: 'TCP_CHECK', retry: 1, delayLoopMs: 10000, warmupMs: 10000, delayBeforeRetryMs: 1000, alpha: false });
    expect(c.type === 'TCP_CHECK' && c.connection).toEqual({ connectIp: undefined, connectPort: 8080, bindTo: '192.0.2.2', bindPort: undefined, bindIf: undefined, fwmark: undefined, connectTimeoutMs: 3000 });
  });

  it('HTTP_GET urls, status codes and the 3 s delay_before_retry default', () => {
    const [c] = get(
      vs(
        '    protocol TCP\n    lb_algo rr\n    lb_kind NAT',
        rsWith('        HTTP_GET {\n            url {\n                path /health\n                status_code 200 301-302\n            }\n            url {\n                path /\n                digest 9b3a0c85a887a256d6939da88aabd8cd\n            }\n            http_protocol 1.1\n        }'),
      ),
    );
    expect(c.type).toBe('HTTP_GET');
    if (c.type !== 'HTTP_GET') return;
    expect(c).toMatchObject({ delayBeforeRetryMs: 3000, retry: 1, httpProtocol: '1.1', fastRecovery: false, enableSni: false });
    expect(c.urls[0]).toMatchObject({ path: '/health', statusCodes: [200, 301, 302] });
    expect(c.urls[1].statusCodes).toHaveLength(100);
    expect(c.urls[1].digest).toBe('9b3a0c85a887a256d6939da88aabd8cd');
  });

  it('DNS_CHECK retries 3 times and waits delay_loop before retrying', () => {
    const [c] = get(vs('    protocol UDP\n    lb_algo rr\n    lb_kind NAT', rsWith('        DNS_CHECK {\n            type aaaa\n            name example.com\n        }')));
    expect(c).toMatchObject({ type: 'DNS_CHECK', retry: 3, delayBeforeRetryMs: 10000, queryType: 'AAAA', name: 'example.com' });
  });

  it('MISC_CHECK retry 0, timeout = delay_loop, argv split', () => {
    const [c] = get(SEC + vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', rsWith('        MISC_CHECK {\n            misc_path "/bin/true --check \'a b\'"\n            misc_dynamic\n        }')));
    expect(c).toMatchObject({ type: 'MISC_CHECK', retry: 0, timeoutMs: 10000, dynamic: true });
    expect(c.type === 'MISC_CHECK' && c.script.argv).toEqual(['/bin/true', '--check', 'a b']);
  });

  it('SMTP_CHECK helo default, UDP_CHECK lengths, PING_CHECK', () => {
    const cs = get(
      vs(
        '    protocol TCP\n    lb_algo rr\n    lb_kind NAT',
        rsWith('        SMTP_CHECK {\n        }\n        UDP_CHECK {\n            payload 01 02 ff\n            require_reply 0x1X\n        }\n        PING_CHECK {\n        }'),
      ),
    );
    expect(cs.map((c) => c.type)).toEqual(['SMTP_CHECK', 'UDP_CHECK', 'PING_CHECK']);
    expect(cs[0]).toMatchObject({ heloName: 'smtpchecker.keepalived.org' });
    expect(cs[1]).toMatchObject({ payload: '0102ff', requireReply: true, replyData: '0x1x', minReplyLength: 0, maxReplyLength: 255 });
  });

  it('FILE_CHECK and BFD_CHECK reference objects defined before', () => {
    const cs = get(
      'track_file tf {\n    file /run/x\n    weight 3\n}\nbfd_instance b1 {\n    neighbor_ip 192.0.2.201\n}\n' +
        vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', rsWith('        FILE_CHECK {\n            track_file tf\n        }\n        BFD_CHECK {\n            name b1\n        }')),
    );
    expect(cs).toEqual([expect.objectContaining({ type: 'FILE_CHECK', trackFile: 'tf', weight: 3, weightReverse: false }), expect.objectContaining({ type: 'BFD_CHECK', name: 'b1', alpha: false })]);
  });

  it('HTTP_GET without url, url without path: the checker is dropped', () => {
    const r = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', rsWith('        HTTP_GET {\n            url {\n                status_code 200\n            }\n        }')));
    expect(errs(r)).toEqual(['HTTP/SSL_GET checker url has no path - ignoring', 'HTTP/SSL_GET checker has no urls specified - ignoring']);
    expect(r.config!.virtualServers[0].realServers[0].checkers).toEqual([]);
  });

  it('a check script without enable_script_security exits 6', () => {
    const r = load(vs('    protocol TCP\n    lb_algo rr\n    lb_kind NAT', rsWith('        MISC_CHECK {\n            misc_path /bin/true\n        }')));
    expect(r.exitCode).toBe(6);
    expect(errs(r)).toEqual(['SECURITY VIOLATION - check scripts are being executed but script_security not enabled.']);
  });
});

describe('bfd_instance (bfd_parser.c)', () => {
  it('defaults and the VRRP weight', () => {
    const r = load('bfd_instance b1 {\n    neighbor_ip 192.0.2.3\n    weight -10 reverse\n}\nbfd_instance b6 {\n    neighbour_ip 2001:db8::3\n    min_rx 2.5\n    checker\n}\n');
    expect(r.exitCode).toBe(0);
    expect(r.config!.bfdInstances).toEqual([
      expect.objectContaining({ name: 'b1', neighborIp: '192.0.2.3', family: 'inet', minRxMs: 10, minTxMs: 10, idleTxMs: 1000, multiplier: 5, ttl: 255, maxHops: 0, passive: false, weight: -10, weightReverse: true, sendToVrrp: true, sendToChecker: true }),
      expect.objectContaining({ name: 'b6', neighborIp: '2001:db8::3', family: 'inet6', minRxMs: 2.5, ttl: 64, sendToVrrp: false, sendToChecker: true }),
    ]);
  });

  it('an instance without neighbor is disabled; a bad address skips the block', () => {
    const r = load('bfd_instance b1 {\n    min_rx 50\n}\nbfd_instance b2 {\n    neighbor_ip 192.0.2.999\n    min_rx 50\n}\n');
    expect(errs(r)).toEqual([
      'Configuration error: BFD instance b1 has no neighbor address set, disabling instance',
      'Configuration error: BFD instance b2 has malformed neighbor address 192.0.2.999, ignoring instance',
    ]);
    expect(r.config!.bfdInstances).toEqual([]);
  });
});
