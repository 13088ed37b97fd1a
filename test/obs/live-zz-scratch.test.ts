import { it } from 'vitest';
import { makeLab } from '../helpers/netns';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startLive } from './live-lab';
it('scratch', async () => {
  const lab = makeLab('cz', [{ name: 'a', v4: ['192.0.2.11/24'] }, { name: 'cl', v4: ['192.0.2.100/24'] }]);
  const rx = await startOtlpReceiver(lab.hosts.cl!, '192.0.2.100', 19849);
  const conf = `global_defs {\n script_user root\n enable_script_security\n}\nvrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 150\n advert_int 0.1\n version 3\n virtual_ipaddress {\n 192.0.2.50/24 dev eth0\n }\n notify "/bin/true"\n notify_master "/bin/true"\n notify_backup "/bin/true"\n}\n`;
  const a = await startLive(lab.hosts.a!, conf, { port: 19848, env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' }, args: ['--log-level=debug'] });
  await a.waitState('MASTER');
  await new Promise((r) => setTimeout(r, 2500));
  await a.stop();
  for (const s of rx.spans) console.log('SPAN', s.name, s.spanId, s.parentSpanId ?? '-', JSON.stringify(s.attributes));
  for (const r of a.records()) console.log('LOG', r.time, r.event, r.msg, r.notifyEvent ?? '');
  console.log(a.stderr());
  await rx.stop();
  lab.destroy();
});
