// The tables of docs/http-api.md, rendered from the wire contract (@pp-embed/viz-api).
import {
  ERROR_CODES,
  LIMITS,
  type ErrorCode,
  type ParamSpec,
  ROUTE_IDS,
  ROUTE_METHODS,
  type RouteClass,
  ROUTES,
  TOKEN_INVALID_REASONS,
  type TokenInvalidReason,
} from '@pp-embed/viz-api';

const UNDER_TERMDB: Record<RouteClass, string> = {
  discovery: 'open (metadata only, see below)',
  aggregated: 'open',
  'sample-level': 'token required',
  login: 'open (it checks a dataset password, see below)',
};

function param(name: string, spec: ParamSpec): string {
  if (spec.kind === 'integer') return `\`${name}\` (${spec.min} to ${spec.max}, default ${spec.default})`;
  if (spec.kind === 'choice')
    return `\`${name}\` (optional: ${spec.values.map((v) => `\`${v}\``).join(', ')})`;
  return spec.required ? `\`${name}\`` : `\`${name}\` (optional)`;
}

/** Every route: id, method and path, class, parameters, and what a `termdb` credential does to it. */
export function routeTable(): string {
  const rows = ROUTE_IDS.map((id) => {
    const route = ROUTES[id];
    const params = Object.entries(route.params).map(([name, spec]) => param(name, spec as ParamSpec));
    const method = 'method' in route ? route.method : ROUTE_METHODS.join(', ');
    return `| \`${id}\` | \`${method} ${route.path}\` | ${route.class} | ${params.join(', ')} | ${UNDER_TERMDB[route.class]} |`;
  });
  return [
    '| route | path | class | parameters | under a `termdb` credential |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Text parameters are at most ${LIMITS.maxParamLength} characters; a token is at most ${LIMITS.maxTokenLength}. ` +
      `A \`filter\` is at most ${LIMITS.maxFilterLength} characters, ${LIMITS.maxFilterClauses} clauses and ` +
      `${LIMITS.maxFilterValues} categories per clause. An overlay or divide-by term has at most ` +
      `${LIMITS.maxOverlayValues} categories or bins (the split of a survival chart ${LIMITS.maxSurvivalSeries}), and a ` +
      `barchart with them at most ${LIMITS.maxChartCells.toLocaleString('en-US')} cells; a survival curve has at most ` +
      `${LIMITS.maxCurvePoints} steps and a search answers at most ${LIMITS.maxSearchResults} terms.`,
  ].join('\n');
}

/** Every error code: status, code, what it means. */
export function errorTable(): string {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  const rows = codes.map(
    (code) => `| ${ERROR_CODES[code].status} | \`${code}\` | ${ERROR_CODES[code].meaning} |`,
  );
  return ['| status | code | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Every `reason` a `token_invalid` body can carry. */
export function reasonTable(): string {
  const reasons = Object.keys(TOKEN_INVALID_REASONS) as TokenInvalidReason[];
  const rows = reasons.map((reason) => `| \`${reason}\` | ${TOKEN_INVALID_REASONS[reason].meaning} |`);
  return ['| reason | meaning |', '| --- | --- |', ...rows].join('\n');
}
