import { explain, type ExplainRequest, loadPolicy } from '@pp-embed/access-policy';
import { createSigner, generateSecret } from '@pp-embed/dataset-token';

/** The config the README's examples run against, as it appears there. */
export const EXAMPLE_CONFIG = {
  TermdbTest: {
    termdb: {
      'portal.example.org': {
        type: 'jwt',
        secret: { env: 'PP_DS_SECRET' },
        dsnames: [{ id: 'TermdbTest', label: 'Termdb test' }],
      },
    },
  },
  '*': { '*': { '*': { type: 'forbidden' } } },
};

// A fixed clock makes the output the same on every run; the secret is new each time and never printed.
const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);

/**
 * Runs `explain` on three realistic refusals and renders them as the README's Markdown section, so that the
 * README shows what the code says rather than what someone remembered it saying.
 */
export async function explainExamples(): Promise<string> {
  const secret = generateSecret();
  const policy = loadPolicy(EXAMPLE_CONFIG, {
    baseDir: '.',
    env: { PP_DS_SECRET: secret },
    now: () => NOW_MS,
  });
  const signer = createSigner({ algorithm: 'HS256', key: { secret }, now: () => NOW_MS });
  const request: ExplainRequest = {
    dataset: 'TermdbTest',
    route: 'termdb/samples',
    origin: 'https://portal.example.org',
    clientIp: '203.0.113.7',
  };
  const cases: { title: string; command: string; request: ExplainRequest; token?: string }[] = [
    {
      title: 'A staging copy of the portal, which has no credential',
      command: '--origin https://staging.portal.example.org',
      request: { ...request, origin: 'https://staging.portal.example.org' },
      token: signer.sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' }),
    },
    {
      title: 'A user whose grant covers another dataset only',
      command: '--origin https://portal.example.org --ip 203.0.113.7',
      request,
      token: signer.sign({ datasets: ['SJLife'], email: 'ana@example.org', ip: '203.0.113.7' }),
    },
    {
      title: "A token minted for the user's office address, used from home",
      command: '--origin https://portal.example.org --ip 198.51.100.23',
      request: { ...request, clientIp: '198.51.100.23' },
      token: signer.sign({ datasets: ['TermdbTest'], email: 'ana@example.org', ip: '203.0.113.7' }),
    },
  ];
  const sections: string[] = [];
  for (const c of cases) {
    const { decision, steps } = await explain(policy, c.request, c.token);
    const code = decision.outcome === 'refused' ? decision.code : 'allowed';
    sections.push(
      [
        `#### ${c.title} (\`${code}\`)`,
        '',
        '```text',
        `$ pp-token explain --config serverconfig.json --dataset TermdbTest --route termdb/samples ${c.command} TOKEN`,
        ...steps.map((s) => `- ${s}`),
        '```',
      ].join('\n'),
    );
  }
  return [
    'The config these run against (`dsCredentials` of serverconfig.json):',
    '',
    '```json',
    JSON.stringify(EXAMPLE_CONFIG, null, 2),
    '```',
    '',
    sections.join('\n\n'),
  ].join('\n');
}
