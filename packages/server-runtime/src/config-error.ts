/**
 * One mistake in a configuration: where it is, and what was expected there. `path` is a JSON path into a file
 * (`dsCredentials.TermdbTest.termdb.portal.example.org.secret`) or the setting's names (`PORT (--port)`).
 *
 * @example
 * const problem: ConfigProblem = { path: 'datasets[0].file', message: '/data/x.db not found' };
 */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * A configuration that cannot be used, with every problem found: a server must not start half-configured, and
 * an operator should fix the whole file in one pass. Thrown by every loader of the project (serverconfig.json,
 * its dsCredentials block, the portal's settings); the server prints `message` and exits non-zero.
 *
 * @example
 * try {
 *   loadServerConfig('serverconfig.json');
 * } catch (error) {
 *   if (error instanceof ConfigError) for (const p of error.problems) console.error(`${p.path}: ${p.message}`);
 * }
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** What was read: a file name, `dsCredentials`, `The portal configuration`. */
  readonly subject: string;
  readonly problems: readonly ConfigProblem[];

  constructor(subject: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${subject} has ${count}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.subject = subject;
    this.problems = Object.freeze([...problems]);
  }
}

// Keys that read unambiguously when joined with dots; anything else is quoted so that a key holding spaces,
// quotes or control characters can neither hide nor forge a path in a log line.
const PLAIN_KEY = /^[A-Za-z0-9_.*:#<>@$%+~!/-]+$/;

/**
 * Renders a JSON path such as `dsCredentials.TermdbTest.*.portal.example.org.dsnames[0].id`. Keys that would
 * read ambiguously are quoted: `datasets[0]["a b"]`.
 *
 * @example
 * formatPath('dsCredentials', ['TermdbTest', '*', 'portal.example.org', 'secret']);
 * // 'dsCredentials.TermdbTest.*.portal.example.org.secret'
 * formatPath('', ['datasets', 0, 'file']); // 'datasets[0].file'
 */
export function formatPath(root: string, segments: readonly PropertyKey[]): string {
  let out = root;
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && PLAIN_KEY.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(root)' : out;
}
