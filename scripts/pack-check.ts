// Proves that the publishable packages install and work outside the workspace, as a portal developer gets them:
// packs each one with `pnpm pack` (which applies publishConfig), checks what each tarball holds and what its
// README says, installs them all into an empty npm project in the system's temp folder, type-checks a strict
// NodeNext example that uses them and every TypeScript example of their READMEs with the current @types/node,
// runs the example and compares its output, type-checks again with @types/node 20, and runs the installed
// `pp-token`. It builds nothing: run the build first.
// Run: npx -y pnpm@10 run build && npx -y pnpm@10 run test:packages
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every package a portal developer may install, by folder under packages/. apps/*, e2e, security and bench are private. */
const PUBLISHABLE = [
  'viz-api',
  'client-address',
  'server-runtime',
  'dataset-token',
  'passport',
  'revocation',
  'api-token',
  'embedder-registry',
  'access-policy',
  'server-config',
  'token-provider',
  'viewer',
  'cli',
] as const;

type PackageDir = (typeof PUBLISHABLE)[number];

/** Packages whose code runs in a page: their README examples are type-checked with the DOM and without Node. */
const BROWSER: ReadonlySet<PackageDir> = new Set(['viewer', 'token-provider']);

/** Ten minutes is a hung registry, not a slow one. */
const STEP_TIMEOUT_MS = 10 * 60_000;

const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline'];

/** The TypeScript version of the workspace's catalog, so that a new compiler release cannot fail this check. */
function workspaceTypeScript(): string {
  const catalog = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const version = /^\s+typescript:\s*([^\s#]+)/m.exec(catalog)?.[1];
  if (version === undefined)
    throw new CheckFailed('pnpm-workspace.yaml names no typescript version in its catalog');
  return version;
}

class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

interface Run {
  stdout: string;
  stderr: string;
}

// The consumer project must see what a developer's shell sees, not the npm_* variables pnpm sets for a script
// (npm warns about pnpm's own settings, and npm_config_* would change how npm installs).
const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')),
);

/** Runs a command to completion; throws a CheckFailed that shows its output when it exits non-zero. */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...env, NO_UPDATE_NOTIFIER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: STEP_TIMEOUT_MS,
      // npx and npm are .cmd files on Windows.
      shell: process.platform === 'win32',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(new CheckFailed(`${what}: could not start ${command}: ${error.message}`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const status = signal === null ? `exited with ${code}` : `was stopped by ${signal}`;
      const output = `${stdout}${stderr}`.trim();
      reject(
        new CheckFailed(
          `${what}: \`${[command, ...args].join(' ')}\` ${status}${output === '' ? '' : `:\n${output}`}`,
        ),
      );
    });
  });
}

/** pnpm as it started this script, or pnpm 10 through npx. */
function pnpmCommand(): [string, string[]] {
  const execpath = process.env.npm_execpath;
  if (execpath !== undefined && /pnpm\.c?js$/.test(execpath)) return [process.execPath, [execpath]];
  return ['npx', ['-y', 'pnpm@10']];
}

/** The regular files of a .tgz, by their path inside the package (without npm's `package/` prefix). */
function readTarball(file: string): Map<string, Buffer> {
  const data = gunzipSync(readFileSync(file));
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + 512 <= data.length;) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0[\s\S]*$/, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = `${prefix === '' ? '' : `${prefix}/`}${field(0, 100)}`;
    const type = field(156, 1);
    if (type === '0' || type === '') {
      files.set(name.replace(/^package\//, ''), data.subarray(offset + 512, offset + 512 + size));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every file named by an exports map: its leaves, under any condition. */
function exportTargets(
  value: unknown,
  path: string,
  out: { path: string; target: string }[] = [],
): { path: string; target: string }[] {
  if (typeof value === 'string') out.push({ path, target: value });
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      exportTargets(inner, `${path}[${JSON.stringify(key)}]`, out);
    }
  }
  return out;
}

function hasCondition(value: unknown, condition: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => key === condition || hasCondition(inner, condition));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => file.split('\\').join('/'));
}

/** The text of a README section, from its `## ` heading to the next one. */
function section(readme: string, heading: string): string | undefined {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) return undefined;
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** Every name a declaration file exports, from `export { … }` lists and `export <declaration>`s. */
function exportedNames(declarations: string): string[] {
  const names = new Set<string>();
  for (const [, list = ''] of declarations.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name !== undefined && name !== '') names.add(name);
    }
  }
  const declared =
    /export\s+(?:declare\s+)?(?:abstract\s+)?(?:function|const|let|class|interface|type|enum)\s+([\w$]+)/g;
  for (const [, name = ''] of declarations.matchAll(declared)) names.add(name);
  return [...names];
}

/** The TypeScript blocks of a README, each a complete module. */
function readmeExamples(readme: string): string[] {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, code = '']) => code);
}

/**
 * What a package's README must say: how to install it, and an API section that names every export of the
 * package's entry point, so that a new export cannot go undocumented. Its TypeScript examples are type-checked
 * in the consumer project.
 */
function readmeProblems(dir: PackageDir, files: Map<string, Buffer>): string[] {
  const readme = files.get('README.md')?.toString('utf8');
  if (readme === undefined) return ['README.md is not packed'];
  const problems: string[] = [];
  if (section(readme, 'Install')?.includes(`npm install @pp-embed/${dir}`) !== true) {
    problems.push(`README.md has no "## Install" section with \`npm install @pp-embed/${dir}\``);
  }
  const api = section(readme, 'API');
  const entry = files.get('dist/index.d.ts')?.toString('utf8');
  if (api === undefined) problems.push('README.md has no "## API" section');
  else if (entry !== undefined) {
    const missing = exportedNames(entry).filter((name) => !new RegExp(`\`${name}[\`(<]`).test(api));
    if (missing.length > 0) problems.push(`README.md's API section does not name ${missing.join(', ')}`);
  }
  return problems;
}

interface Manifest {
  name?: string;
  private?: boolean;
  license?: string;
  exports?: unknown;
  bin?: Record<string, string>;
  main?: string;
  types?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

/** What a published package must hold: says what is wrong with one tarball, or nothing. */
function tarballProblems(dir: PackageDir, files: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  const manifestFile = files.get('package.json');
  if (manifestFile === undefined) return ['no package.json in the tarball'];
  const manifest = JSON.parse(manifestFile.toString('utf8')) as Manifest;
  const has = (target: string): boolean => files.has(target.replace(/^\.\//, ''));

  if (manifest.name !== `@pp-embed/${dir}`) problems.push(`name is ${String(manifest.name)}`);
  if (manifest.private === true) problems.push('it is private');
  if (manifest.license !== 'MIT') problems.push(`license is ${String(manifest.license)}, not MIT`);
  if (!files.has('LICENSE')) problems.push('the tarball has no LICENSE file');
  // The workspace resolves packages to their TypeScript sources under "source"; sources are not published.
  if (hasCondition(manifest.exports, 'source')) {
    problems.push('exports keep the workspace-only "source" condition');
  }
  const targets = [
    ...exportTargets(manifest.exports, 'exports'),
    ...Object.entries(manifest.bin ?? {}).map(([name, target]) => ({ path: `bin.${name}`, target })),
    ...(manifest.main === undefined ? [] : [{ path: 'main', target: manifest.main }]),
    ...(manifest.types === undefined ? [] : [{ path: 'types', target: manifest.types }]),
  ];
  for (const { path, target } of targets) {
    if (!target.includes('*') && !has(target)) problems.push(`${path} names ${target}, which is not packed`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
    for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(spec)) problems.push(`${field}.${name} is "${spec}"`);
    }
  }
  const sources = new Set(sourceFiles(join(ROOT, 'packages', dir, 'src')));
  for (const file of files.keys()) {
    if (file.startsWith('src/') || /\.test\.|\.map$/.test(file)) problems.push(`${file} is packed`);
    // A declaration without a source is left over from an older build and would be published with it.
    const declared = /^dist\/(.+)\.d\.ts$/.exec(file)?.[1];
    if (declared !== undefined && !sources.has(`${declared}.ts`)) {
      problems.push(`${file} has no source in src/ (stale build output: delete dist/ and build again)`);
    }
  }
  // Declarations that name Node's types need @types/node, which the package must ask for, and only optionally:
  // a portal may type-check its browser code without it.
  const nodeTypes = [...files].some(
    ([file, text]) => file.endsWith('.d.ts') && /\bNodeJS\.|from ['"]node:/.test(text.toString('utf8')),
  );
  if (nodeTypes && hasCondition(manifest.exports, 'types')) {
    if (manifest.peerDependencies?.['@types/node'] === undefined) {
      problems.push('its declarations use @types/node, which is not a peer dependency');
    } else if (manifest.peerDependenciesMeta?.['@types/node']?.optional !== true) {
      problems.push('its @types/node peer dependency is not optional');
    }
  }
  if (dir === 'viewer') {
    const bundle = (manifest.exports as Record<string, unknown> | undefined)?.['./proteinpaint.js'];
    if (bundle !== './dist/proteinpaint.js') {
      problems.push('./proteinpaint.js is not exported as ./dist/proteinpaint.js');
    }
  }
  return [...problems, ...readmeProblems(dir, files)];
}

// The consumer project. One example for a portal's server and the visualization server's side, run with node;
// one for a portal's page, type-checked only (importing the viewer registers custom elements). The READMEs'
// examples join one or the other.

const NODE_TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
    resolveJsonModule: true,
    // Our declarations are what is under test: check them, not only the examples.
    skipLibCheck: false,
    noEmitOnError: true,
    outDir: 'dist',
    rootDir: 'src',
  },
  include: ['src/server.ts', 'src/readme/node'],
};

const BROWSER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'ESNext',
    moduleResolution: 'Bundler',
    target: 'ES2022',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    // A page's code: the browser packages must not need Node's types.
    types: [],
    skipLibCheck: false,
    noEmit: true,
  },
  include: ['src/browser.ts', 'src/readme/browser'],
};

const SERVER_EXAMPLE = `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide, explain, loadPolicy, type RequestFacts } from '@pp-embed/access-policy';
import dsCredentialsSchema from '@pp-embed/access-policy/dscredentials.schema.json' with { type: 'json' };
import { proxyTrust, sameAddress } from '@pp-embed/client-address';
import {
  createSigner,
  createVerifier,
  type DatasetTokenClaims,
  generateSecret,
  TokenError,
  TokenSetupError,
} from '@pp-embed/dataset-token';
import { loadServerConfig, serverConfigJsonSchema } from '@pp-embed/server-config';
import serverConfigSchema from '@pp-embed/server-config/serverconfig.schema.json' with { type: 'json' };
import { ConfigError } from '@pp-embed/server-runtime';
import { ERROR_CODES, readParams, ROUTES } from '@pp-embed/viz-api';

const env = { PP_DS_SECRET: generateSecret() };

// The portal: the client address as the visualization server will see it, then a token for the user.
const trust = proxyTrust(['10.0.0.0/8']);
const ip = trust.clientAddress('10.1.2.3', '198.51.100.9, 203.0.113.7');
console.log(\`client \${ip}\`);
const signer = createSigner({ algorithm: 'HS256', key: { secret: { env: 'PP_DS_SECRET' } }, env });
const token = signer.sign({
  datasets: ['TermdbTest'],
  email: 'ana@example.org',
  ip,
  clientAuthResult: { role: 'analyst' },
});
try {
  createSigner({ algorithm: 'HS256', key: { secret: 'too short' } });
} catch (error) {
  if (error instanceof TokenSetupError) console.log(\`weak secret \${error.code}\`);
}

// The visualization server: verify, then decide.
const verifier = createVerifier({ key: { secret: { env: 'PP_DS_SECRET' } }, env });
const claims: DatasetTokenClaims = await verifier.verify(token);
console.log(\`verified \${claims.email} \${claims.datasets.join(',')} \${String(claims.clientAuthResult?.role)}\`);
console.log(\`same address \${sameAddress(claims.ip ?? '', '::ffff:203.0.113.7')}\`);
await verifier.verify(\`\${token.slice(0, -2)}AA\`).catch((error: unknown) => {
  if (error instanceof TokenError) console.log(\`tampered \${error.code} \${ERROR_CODES[error.code].status}\`);
});

const dsCredentials = {
  TermdbTest: { termdb: { 'portal.example.org': { type: 'jwt', secret: { env: 'PP_DS_SECRET' } } } },
};
const policy = loadPolicy(dsCredentials, { baseDir: process.cwd(), env });
const request = (changes: Partial<RequestFacts>): RequestFacts => ({
  dataset: 'TermdbTest',
  route: ROUTES.samples,
  origin: 'https://portal.example.org',
  clientIp: '203.0.113.7',
  header: (name) => (name === 'x-ds-access-token' ? token : undefined),
  ...changes,
});
for (const [what, facts] of [
  ['samples', request({})],
  ['samples without a token', request({ header: () => undefined })],
  ['samples from another address', request({ clientIp: '198.51.100.23' })],
  ['samples from another portal', request({ origin: 'https://elsewhere.example.org' })],
  ['barchart without a token', request({ route: ROUTES.barchart, header: () => undefined })],
] as const) {
  const decision = await decide(policy, facts);
  console.log(\`\${what}: \${decision.allowed ? 'allowed' : \`\${decision.status} \${decision.code}\`}\`);
}
const { steps } = await explain(
  policy,
  { dataset: 'TermdbTest', route: 'termdb/samples', origin: 'https://portal.example.org', clientIp: '198.51.100.23' },
  token,
);
console.log(\`explain: \${steps.at(-1)}\`);

const read = readParams('samples', new URLSearchParams('dslabel=TermdbTest&term=sex&pageSize=900'));
console.log(read.ok ? \`page size \${read.params.pageSize}\` : \`bad request: \${read.problem}\`);

// serverconfig.json, read by the server's loader, and its JSON Schema as shipped.
const file = join(process.argv[2] ?? '.', 'serverconfig.json');
const config = {
  datasets: [{ label: 'TermdbTest', genome: 'hg38', file: 'TermdbTest.db' }],
  dsCredentials,
  trustProxy: ['10.0.0.0/8'],
};
writeFileSync(file, JSON.stringify(config));
const loaded = loadServerConfig(file, { env });
const client = loaded.proxies.clientAddress('10.0.0.1', '203.0.113.7');
console.log(\`config \${[...loaded.datasets.keys()].join(',')} port \${loaded.port} client \${client}\`);
writeFileSync(file, JSON.stringify({ ...config, port: 'eighty' }));
try {
  loadServerConfig(file, { env });
} catch (error) {
  if (error instanceof ConfigError) console.log(\`bad config \${error.problems.map((p) => p.path).join(',')}\`);
}
const title: string = serverConfigSchema.properties.dsCredentials.title;
console.log(\`schema \${title} \${JSON.stringify(serverConfigJsonSchema()) === JSON.stringify(serverConfigSchema)}\`);
console.log(\`dsCredentials schema \${dsCredentialsSchema.title}\`);
const bundle = import.meta.resolve('@pp-embed/viewer/proteinpaint.js');
console.log(\`viewer bundle \${bundle.endsWith('/node_modules/@pp-embed/viewer/dist/proteinpaint.js')}\`);
`;

const SERVER_OUTPUT = [
  'client 203.0.113.7',
  'weak secret secret_too_short',
  'verified ana@example.org TermdbTest analyst',
  'same address true',
  'tampered token_invalid 401',
  'samples: allowed',
  'samples without a token: 401 token_missing',
  'samples from another address: 403 ip_mismatch',
  'samples from another portal: 403 embedder_not_allowed',
  'barchart without a token: allowed',
  'explain: Decision: refused with ip_mismatch (403).',
  'bad request: pageSize must be a whole number from 1 to 500.',
  'config TermdbTest port 3001 client 203.0.113.7',
  'bad config port',
  'schema dsCredentials true',
  'dsCredentials schema dsCredentials',
  'viewer bundle true',
];

const BROWSER_EXAMPLE = `import { createTokenProvider } from '@pp-embed/token-provider';
import { messageFor, type PpErrorEvent, type ProteinPaintHandle, runproteinpaint } from '@pp-embed/viewer';
import { ERROR_CODES, isErrorCode } from '@pp-embed/viz-api';

export async function embed(holder: HTMLElement): Promise<ProteinPaintHandle> {
  const tokens = createTokenProvider({ endpoint: '/api/dataset-token', headers: { 'x-csrf-token': 'csrf' } });
  await tokens.ready;
  const handle = runproteinpaint({
    host: 'https://viz.example.org',
    holder,
    mass: { state: { dslabel: 'TermdbTest', genome: 'hg38' } },
    getDatasetAccessToken: tokens.getDatasetAccessToken,
  });
  holder.addEventListener('pp-error', (event) => {
    const { code, route } = (event as PpErrorEvent).detail;
    const status: number = isErrorCode(code) ? ERROR_CODES[code].status : 0;
    console.log(status, messageFor(code, { dslabel: 'TermdbTest', host: 'https://viz.example.org', route }));
  });
  return handle;
}
`;

async function check(step: (text: string) => void): Promise<void> {
  for (const dir of PUBLISHABLE) {
    if (!existsSync(join(ROOT, 'packages', dir, 'dist'))) {
      throw new CheckFailed(`packages/${dir}/dist is missing: run \`npx -y pnpm@10 run build\` first`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'pp-embed-packages-'));
  const cleanUp = (): void => rmSync(work, { recursive: true, force: true });
  const interrupted = (): void => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    // A project inside the workspace would resolve our packages from the workspace's node_modules.
    if (!relative(ROOT, work).startsWith('..')) {
      throw new CheckFailed(`the temp folder ${work} is inside the repository; set TMPDIR elsewhere`);
    }
    const tarballs = join(work, 'tarballs');
    const app = join(work, 'app');
    mkdirSync(tarballs);
    mkdirSync(join(app, 'src'), { recursive: true });

    step(`packing ${PUBLISHABLE.length} packages with pnpm pack`);
    const [pnpm, pnpmArgs] = pnpmCommand();
    const packed = new Map<PackageDir, { file: string; files: Map<string, Buffer> }>();
    await Promise.all(
      PUBLISHABLE.map(async (dir) => {
        const destination = join(tarballs, dir);
        mkdirSync(destination);
        const args = [...pnpmArgs, 'pack', '--pack-destination', destination];
        await run(pnpm, args, join(ROOT, 'packages', dir), `pack ${dir}`);
        const [name, ...more] = readdirSync(destination).filter((entry) => entry.endsWith('.tgz'));
        if (name === undefined || more.length > 0) throw new CheckFailed(`pack ${dir}: expected one tarball`);
        const file = join(destination, name);
        packed.set(dir, { file, files: readTarball(file) });
      }),
    );
    const tarball = (dir: PackageDir): { file: string; files: Map<string, Buffer> } =>
      packed.get(dir) as { file: string; files: Map<string, Buffer> };
    const problems = PUBLISHABLE.flatMap((dir) =>
      tarballProblems(dir, tarball(dir).files).map((problem) => `@pp-embed/${dir}: ${problem}`),
    );
    if (problems.length > 0) {
      throw new CheckFailed(`the packed packages are not publishable:\n  ${problems.join('\n  ')}`);
    }

    step("installing the tarballs, the workspace's typescript and @types/node@latest into an empty project");
    // Each @pp-embed dependency is pinned to its tarball, so that npm never looks for one in the registry.
    const local = Object.fromEntries(
      PUBLISHABLE.map((dir) => [`@pp-embed/${dir}`, `file:${relative(app, tarball(dir).file)}`]),
    );
    const manifest = { name: 'portal-example', private: true, type: 'module', dependencies: local };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ ...manifest, overrides: local }, null, 2));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(NODE_TSCONFIG, null, 2));
    writeFileSync(join(app, 'tsconfig.browser.json'), JSON.stringify(BROWSER_TSCONFIG, null, 2));
    writeFileSync(join(app, 'src', 'server.ts'), SERVER_EXAMPLE);
    writeFileSync(join(app, 'src', 'browser.ts'), BROWSER_EXAMPLE);
    for (const dir of PUBLISHABLE) {
      const folder = join(app, 'src', 'readme', BROWSER.has(dir) ? 'browser' : 'node');
      mkdirSync(folder, { recursive: true });
      const readme = tarball(dir).files.get('README.md')?.toString('utf8') ?? '';
      readmeExamples(readme).forEach((code, i) => writeFileSync(join(folder, `${dir}-${i + 1}.ts`), code));
    }
    const npm = (args: string[], what: string): Promise<Run> => run('npm', args, app, what, CLEAN_ENV);
    await npm([...NPM_INSTALL, `typescript@${workspaceTypeScript()}`, '@types/node@latest'], 'npm install');
    const version = (name: string): string =>
      (
        JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    const versions = (): string =>
      `typescript ${version('typescript')}, @types/node ${version('@types/node')}`;
    // `--` ends npx's own options, which include -p.
    const npx = (args: string[], what: string, env = CLEAN_ENV): Promise<Run> =>
      run('npx', ['--no', '--', ...args], app, what, env);

    step(`type-checking the examples and the READMEs' examples with ${versions()}`);
    // noEmitOnError: one pass that type-checks (strict, NodeNext) and, only when that passes, writes the JS to run.
    await npx(['tsc', '-p', 'tsconfig.json'], `type-check of the Node examples (${versions()})`);
    await npx(['tsc', '-p', 'tsconfig.browser.json'], `type-check of the browser examples (${versions()})`);

    step('running the server example');
    const { stdout } = await run(
      process.execPath,
      ['dist/server.js', work],
      app,
      'the server example',
      CLEAN_ENV,
    );
    const lines = stdout.trim().split('\n');
    if (lines.join('\n') !== SERVER_OUTPUT.join('\n')) {
      throw new CheckFailed(
        `the server example printed\n  ${lines.join('\n  ')}\ninstead of\n  ${SERVER_OUTPUT.join('\n  ')}`,
      );
    }

    step('type-checking the Node examples again with @types/node@20');
    await npm([...NPM_INSTALL, '@types/node@20'], 'npm install @types/node@20');
    await npx(['tsc', '-p', 'tsconfig.json', '--noEmit'], `type-check of the Node examples (${versions()})`);

    step('running the installed pp-token');
    const help = await npx(['pp-token', '--help'], 'pp-token --help');
    if (!help.stdout.includes('pp-token: dataset access tokens')) {
      throw new CheckFailed(`pp-token --help printed:\n${help.stdout}${help.stderr}`);
    }
    const secret = (await npx(['pp-token', 'secret'], 'pp-token secret')).stdout.trim();
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw new CheckFailed(`pp-token secret printed "${secret}"`);
    const withSecret = { ...CLEAN_ENV, PP_DS_SECRET: secret };
    const mint = ['pp-token', 'mint', '--alg', 'HS256', '--secret-env', 'PP_DS_SECRET'];
    const minted = await npx(
      [...mint, '--dataset', 'TermdbTest', '--email', 'ana@example.org'],
      'pp-token mint',
      withSecret,
    );
    const verify = ['pp-token', 'verify', '--secret-env', 'PP_DS_SECRET', minted.stdout.trim()];
    const verified = await npx(verify, 'pp-token verify', withSecret);
    if (!verified.stdout.includes('"email": "ana@example.org"')) {
      throw new CheckFailed(`pp-token verify printed:\n${verified.stdout}${verified.stderr}`);
    }
  } finally {
    cleanUp();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
try {
  await check((text) => console.log(`[${elapsed()}] ${text}`));
  console.log(
    `test:packages: all ${PUBLISHABLE.length} packages install and work outside the workspace (${elapsed()})`,
  );
} catch (error) {
  console.error(
    `\ntest:packages FAILED after ${elapsed()}: ${error instanceof Error ? error.message : String(error)}`,
  );
  if (!(error instanceof CheckFailed)) console.error(error);
  process.exitCode = 1;
}
