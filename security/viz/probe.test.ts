import { it } from 'vitest';
import { useVizLab, samplesPath, DS } from '../harness.js';
const lab = useVizLab();
it('probe', async () => {
  for (const host of [
    '[',
    'a b',
    'x:99999',
    'x:-1',
    '%',
    'ex ample.org',
    '[::1',
    'a/b',
    'a?b',
    'a#b',
    'a@b',
    'é',
    'a\\b',
    ':80',
    '',
  ]) {
    const r = await lab().raw(
      `GET ${samplesPath(DS.termdb)} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    console.log(JSON.stringify(host), r.status, r.text.slice(0, 100));
    const r2 = await lab().raw(`GET /healthcheck HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    console.log('  health', r2.status, r2.text.slice(0, 60));
  }
  console.log(
    lab()
      .server.stderr()
      .split('\n')
      .filter((l) => l.includes('error'))
      .join('\n')
      .slice(0, 3000),
  );
});
