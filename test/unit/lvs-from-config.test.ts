/** keepalived.conf text -> config model (src/config) -> LVS specs -> desired IPVS table. */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load';
import { desiredTable } from '../../src/lvs/desired';
import { lvsFromConfig } from '../../src/lvs/from-config';
import type { VirtualServerSpec, VsHealth } from '../../src/lvs/types';

const CONF = `
global_defs {
  router_id lvs1
  lvs_flush
  lvs_timeouts tcp 7200 tcpfin 60 udp 300
}
virtual_server_group WEB {
  192.0.2.20-22 80
  fwmark 9
}
virtual_server 192.0.2.10 80 {
  delay_loop 3
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  quorum 3
  hysteresis 1
  sorry_server 198.51.100.99 8080
  sorry_server_inhibit
  real_server 198.51.100.11 8080 {
    weight 2
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 2
      retry 4
      delay_before_retry 2
    }
  }
  real_server 198.51.100.12 {
    weight 3
    HTTP_GET {
      url {
        path /health
        status_code 200
        status_code 301-302
        digest 5D41402ABC4B2A76B9719D911017C592
      }
      virtualhost www.example.test
    }
  }
}
virtual_server fwmark 7 {
  lb_algo sh
  lb_kind DR
  sh-port
  real_server 198.51.100.13 80 {
    MISC_CHECK {
      misc_path "/bin/sh -c 'exit 2'"
      misc_dynamic
    }
  }
}
virtual_server group WEB {
  lb_algo rr
  lb_kind DR
  protocol TCP
  alpha
  real_server 198.51.100.14 80 {
    DNS_CHECK {
      type A
      name example.test
    }
  }
}
virtual_server 192.0.2.11 443 {
  lb_algo lc
  lb_kind DR
  protocol TCP
  real_server 198.51.100.15 8443 {
  }
}
`;

function allUp(vs: VirtualServerSpec): VsHealth {
  return { quorumUp: true, realServers: new Map(vs.realServers.map((r) => [`${r.address}:${r.port}`, { alive: true, weight: r.weight }])) };
}

describe('virtual servers from keepalived.conf', () => {
  const loaded = loadConfigText(CONF);
  const lvs = lvsFromConfig(loaded.config!);
  const byName = new Map(lvs.virtualServers.map((v) => [v.name, v]));

  it('global LVS options', () => {
    expect(loaded.config).not.toBeNull();
    expect(lvs).toMatchObject({ flushOnStart: true, flushOnStop: 'none', timeouts: { tcp: 7200, tcpFin: 60, udp: 300 } });
    expect([...byName.keys()]).toEqual(['192.0.2.10:80', 'fwmark:7', 'group:WEB', '192.0.2.11:443']);
  });

  it('address virtual server: scheduler, persistence, quorum, sorry server, real servers and checkers', () => {
    const v = byName.get('192.0.2.10:80')!;
    expect(v).toMatchObject({
      protocol: 'TCP',
      scheduler: 'wrr',
      forwarding: 'NAT',
      persistenceTimeout: 600,
      persistenceGranularity: 24,
      quorum: 3,
      hysteresis: 1,
      sorryServer: { address: '198.51.100.99', port: 8080, weight: 1, forwarding: 'NAT' },
      sorryServerInhibit: true,
    });
    const [a, b] = v.realServers;
    expect(a).toMatchObject({ address: '198.51.100.11', port: 8080, weight: 2, inhibitOnFailure: true });
    expect(a.checkers[0]).toMatchObject({ kind: 'TCP_CHECK', connectIp: '198.51.100.11', connectPort: 8080, connectTimeoutMs: 2000, retry: 4, delayBeforeRetryMs: 2000, delayLoopMs: 3000, warmupMs: 3000 });
    // NAT real server without a port takes the virtual server's
    expect(b).toMatchObject({ address: '198.51.100.12', port: 80, weight: 3 });
    expect(b.checkers[0]).toMatchObject({
      kind: 'HTTP_GET',
      connectPort: 80,
      virtualhost: 'www.example.test',
      delayBeforeRetryMs: 3000,
      urls: [{ path: '/health', digest: '5d41402abc4b2a76b9719d911017c592', statusCodes: [[200, 200], [301, 302]] }],
    });
  });

  it('fwmark virtual server: DR ports cleared, flags, misc_dynamic', () => {
    const v = byName.get('fwmark:7')!;
    expect(v).toMatchObject({ fwmark: 7, scheduler: 'sh', flags: 0x10, forwarding: 'DR' });
    expect(v.realServers[0]).toMatchObject({ port: 0, forwarding: 'DR' });
    expect(v.realServers[0].checkers[0]).toMatchObject({ kind: 'MISC_CHECK', path: "/bin/sh -c 'exit 2'", dynamic: true, retry: 0 });
    // the checker itself still targets the configured port
    const [svc] = desiredTable([v], allUp);
    expect(svc).toMatchObject({ fwmark: 7, protocol: null, flags: 0x10 });
    expect(svc.dests[0]).toMatchObject({ port: 0, forwarding: 'DR' });
  });

  it('virtual_server_group: one IPVS service per member; alpha; DNS_CHECK', () => {
    const v = byName.get('group:WEB')!;
    expect(v.endpoints.map((e) => (e.fwmark ? `FWM ${e.fwmark}` : `${e.address}:${e.port}`))).toEqual(['192.0.2.20:80', '192.0.2.21:80', '192.0.2.22:80', 'FWM 9']);
    expect(v.realServers[0].checkers[0]).toMatchObject({ kind: 'DNS_CHECK', type: 'A', name: 'example.test', alpha: true, retry: 3, delayBeforeRetryMs: 60000 });
    expect(desiredTable([v], allUp).map((s) => s.dests[0].port)).toEqual([80, 80, 80, 0]);
  });

  it('DR real server with another port is reset to the virtual server port, with a warning', () => {
    const v = byName.get('192.0.2.11:443')!;
    expect(v.realServers[0]).toMatchObject({ address: '198.51.100.15', port: 443, checkers: [] });
    // the config layer reports it with keepalived's wording
    expect(loaded.diagnostics.map((d) => d.message).join('\n')).toMatch(/ports don't match - resetting/);
  });

  it('the whole table for all servers up', () => {
    const t = desiredTable(lvs.virtualServers, allUp);
    expect(t.length).toBe(1 + 1 + 4 + 1);
    const web = t.find((s) => s.port === 80 && s.address === '192.0.2.10')!;
    expect(web).toMatchObject({ scheduler: 'wrr', flags: 1, timeout: 600, netmask: 24 });
    // sorry_server_inhibit: present at weight 0 while the quorum holds
    expect(web.dests.map((d) => `${d.address}:${d.port}:${d.weight}`)).toEqual(['198.51.100.11:8080:2', '198.51.100.12:80:3', '198.51.100.99:8080:0']);
  });
});
