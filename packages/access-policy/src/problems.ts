/** One mistake in a `dsCredentials` block: where it is, and what was expected there. */
export interface PolicyProblem {
  /** JSON path such as `dsCredentials.TermdbTest.*.portal.example.org.secret`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A `dsCredentials` block that cannot be used. Thrown once, by `loadPolicy`, with every problem found: a server
 * must not start with a half-understood access policy, and an operator should fix the whole file in one pass.
 *
 * @example
 * try {
 *   loadPolicy(config.dsCredentials, { baseDir });
 * } catch (error) {
 *   if (error instanceof PolicyConfigError) for (const p of error.problems) console.error(`${p.path}: ${p.message}`);
 *   process.exit(1);
 * }
 */
export class PolicyConfigError extends Error {
  override readonly name = 'PolicyConfigError';
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`dsCredentials has ${count}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.problems = Object.freeze([...problems]);
  }
}

// Keys that read unambiguously when joined with dots; anything else is quoted so that a key holding spaces,
// quotes or control characters can neither hide nor forge a path in a log line.
const PLAIN_KEY = /^[A-Za-z0-9_.*:#<>@$%+~!/-]+$/;

/**
 * Renders a path such as `dsCredentials.TermdbTest.*.portal.example.org.dsnames[0].id`.
 *
 * @example
 * formatPath('dsCredentials', ['TermdbTest', '*', 'portal.example.org', 'secret']);
 * // 'dsCredentials.TermdbTest.*.portal.example.org.secret'
 */
export function formatPath(root: string, segments: readonly PropertyKey[]): string {
  let out = root;
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && PLAIN_KEY.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
