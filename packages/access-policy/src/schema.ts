import { ALGORITHMS } from '@pp-embed/dataset-token';
import { DEFAULT_HEADER_KEY } from '@pp-embed/viz-api';
import * as z from 'zod';

/** RFC 9110 §5.1 and §5.6.2: a field name is a `token`, one or more `tchar`. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The longest `maxTokenAge` accepted, in seconds (the token package's own limit). */
export const MAX_TOKEN_AGE_SECONDS = 366 * 86_400;

/** Fields each entry type accepts; anything else (except a `#` comment) is a mistake. */
export const ENTRY_FIELDS = {
  jwt: [
    'type',
    'secret',
    'publicKey',
    'jwks',
    'algorithms',
    'issuer',
    'audience',
    'maxTokenAge',
    'dsnames',
    'headerKey',
    'ipCheck',
    'looseIpCheck',
    'scripts',
    'issuers',
  ],
  basic: ['type', 'passwordHash', 'tokenSecret', 'maxTokenAge', 'headerKey', 'ipCheck', 'looseIpCheck'],
  open: ['type'],
  forbidden: ['type'],
} as const satisfies Record<string, readonly string[]>;

/** The longest lifetime of a token issued for a dataset password, in seconds, and its default. */
export const PASSWORD_TOKEN_AGE = { max: 86_400, default: 3600 } as const;

/**
 * Fields ProteinPaint reads that pp-embed does not, and why; a config that has them is refused with the reason
 * rather than with "unknown field". The "Moving from ProteinPaint" document lists the same reasons.
 */
export const PROTEINPAINT_FIELDS: Readonly<Record<string, string>> = {
  password:
    'ProteinPaint\'s plaintext dataset password: pp-embed keeps only its hash. Write "passwordHash" (`pp-token hash-password`) and "tokenSecret" (`pp-token secret`); `pp-token migrate-config` writes both',
  demoToken:
    "ProteinPaint's demo-token route is not part of pp-embed; mint a demo user's token with `pp-token mint`",
  processor:
    "ProteinPaint's token processor plug-ins are not supported: tokens are signed JWTs checked by the entry's key",
  protectedRoutes: "ProteinPaint's route patterns are not supported; give each route its own route key",
  routePattern: "ProteinPaint's route patterns are not supported; give each route its own route key",
  cookieMode: 'pp-embed never sets a cookie: tokens travel in the headerKey header',
  cookieId: 'pp-embed never sets a cookie: tokens travel in the headerKey header',
  maxSessionAge: 'pp-embed keeps no sessions; "maxTokenAge" bounds a token\'s lifetime',
};

/** How strictly a token's `ip` claim is compared with the client address. */
export const IP_CHECKS = ['strict', 'loose', 'none'] as const;

/** The ways a `jwt` entry names its key; exactly one is given. */
export const KEY_FIELDS = ['secret', 'publicKey', 'jwks'] as const;

const ENTRY_TYPES = Object.keys(ENTRY_FIELDS) as (keyof typeof ENTRY_FIELDS)[];
export const TYPE_EXPECTED = `expected "type" to be ${ENTRY_TYPES.map((t) => `"${t}"`)
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1')}`;

// `#` keys are comments at every level, as in ProteinPaint.
const COMMENT_KEYS_JSON = { '^#': { description: 'A comment, ignored.' } };

const nonEmptyString = (what: string) =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}, not an empty string` });

const stringOrList = (what: string) =>
  z.union(
    [
      nonEmptyString(what),
      z.array(nonEmptyString(what)).min(1, { error: `expected at least one ${what.replace(/^an? /, '')}` }),
    ],
    {
      error: `expected ${what} or a non-empty list of them`,
    },
  );

/** A `secret` field: the value, an environment variable or a file. */
export const secretSource = z
  .union(
    [
      nonEmptyString('a secret'),
      z.strictObject({ env: nonEmptyString('an environment variable name') }),
      z.strictObject({ file: nonEmptyString('a file path') }),
    ],
    { error: 'expected the secret itself, {"env": "NAME"} or {"file": "path"}' },
  )
  .meta({
    description:
      'HMAC secret shared with the portal: the value, {"env": "NAME"} to read an environment variable, or {"file": "path"} (relative to the config file) to read a file.',
  });

const headerKeySchema = z
  .string({ error: 'expected a header name' })
  .max(256, { error: 'expected a header name of at most 256 characters' })
  .regex(HEADER_NAME, {
    error: "not a valid header name (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)",
  })
  .optional()
  .meta({
    description: `Request header carrying the token, compared case-insensitively. Default ${DEFAULT_HEADER_KEY}.`,
  });

const ipCheckSchema = z
  .enum(IP_CHECKS, { error: `expected ${IP_CHECKS.map((c) => `"${c}"`).join(', ')}` })
  .optional()
  .meta({
    description:
      '"strict" (default): the token\'s "ip" claim must be present and equal the client address. "loose": a missing "ip" is accepted and a present one must share the client\'s /24 (IPv4) or /64 (IPv6). "none": the "ip" claim is not checked.',
  });

const looseIpCheckSchema = z.boolean({ error: 'expected true or false' }).optional().meta({
  description:
    'ProteinPaint\'s older spelling: true is "ipCheck": "loose", false is "ipCheck": "strict". Give one of the two.',
});

/**
 * Whether an entry also takes requests from scripts: requests without an `Origin`, carrying a token the portal
 * minted for a script (`client: "script"`, in exchange for a personal API token).
 */
export const SCRIPT_ACCESS = [false, true, 'pinned'] as const;

const scriptsSchema = z
  .union([z.boolean(), z.literal('pinned')], { error: 'expected true, false or "pinned"' })
  .optional()
  .meta({
    description:
      'Also accept scripts: requests with no Origin that carry a token this portal minted for a script (in exchange for a personal API token). false (default): such requests are refused (scripts_not_allowed). true: a script token\'s "ip" claim is checked by ipCheck when the portal pinned one, and a token without one is accepted (scripts run on clusters). "pinned": the token must carry "ip", checked by ipCheck. At most one entry of a route block may accept scripts.',
  });

const jwtEntry = z
  .looseObject({
    type: z.literal('jwt'),
    secret: secretSource.optional(),
    publicKey: nonEmptyString('a PEM file path').optional().meta({
      description: "Path of the portal's public key (PEM), relative to the config file. Instead of secret.",
    }),
    jwks: nonEmptyString('a JWKS file path or https URL').optional().meta({
      description:
        "The portal's JSON Web Key Set: a file path (relative to the config file) or an https URL. Instead of secret.",
    }),
    algorithms: z
      .array(z.enum(ALGORITHMS, { error: `expected one of ${ALGORITHMS.join(', ')}` }))
      .min(1, { error: 'expected at least one algorithm' })
      .optional()
      .meta({
        description:
          "Accepted JWS algorithms; each must fit the key. Default: the key's one default algorithm.",
      }),
    issuer: stringOrList('an issuer')
      .optional()
      .meta({ description: 'Accepted iss values; when set the claim is required.' }),
    audience: stringOrList('an audience')
      .optional()
      .meta({ description: 'Accepted aud values; when set the claim is required.' }),
    maxTokenAge: z
      .int({ error: 'expected a whole number of seconds' })
      .min(1, { error: 'expected at least 1 second' })
      .max(MAX_TOKEN_AGE_SECONDS, { error: `expected at most ${MAX_TOKEN_AGE_SECONDS} seconds` })
      .optional()
      .meta({ description: 'Longest token lifetime (exp - iat) accepted, in seconds. Default 86400.' }),
    dsnames: z
      .array(
        // Other members (ProteinPaint configs carry "role" or "sites") are data for the portal, read by nobody
        // here: only "id" grants anything.
        z.looseObject(
          { id: nonEmptyString('a dataset id'), label: z.string({ error: 'expected a label' }).optional() },
          { error: 'expected {"id": "...", "label": "..."}' },
        ),
        { error: 'expected a list of {"id", "label"}' },
      )
      .min(1, {
        error: 'expected at least one {"id", "label"}; leave dsnames out to require the dataset label itself',
      })
      .optional()
      .meta({
        description:
          'Dataset ids that the token\'s "datasets" claim must all contain. Default: the requested dataset label.',
      }),
    headerKey: headerKeySchema,
    issuers: z
      .array(nonEmptyString('the name of a trusted issuer'), {
        error: 'expected a list of trustedIssuers names',
      })
      .min(1, { error: 'expected at least one trusted issuer name' })
      .optional()
      .meta({
        description:
          'Names of trustedIssuers (serverconfig.json) whose access tokens or passports this entry accepts, beside tokens signed with its key.',
      }),
    ipCheck: ipCheckSchema,
    looseIpCheck: looseIpCheckSchema,
    scripts: scriptsSchema,
  })
  .meta({
    title: 'jwt entry',
    description: 'Requests need a token signed by the portal, in the headerKey header.',
    additionalProperties: false,
    patternProperties: COMMENT_KEYS_JSON,
    // At most one key source per entry: which key checks a token must be written in the config, not chosen by us;
    // an entry without one accepts only its trusted issuers' tokens.
    oneOf: [
      ...KEY_FIELDS.map((field) => ({ required: [field] })),
      { required: ['issuers'], not: { anyOf: KEY_FIELDS.map((field) => ({ required: [field] })) } },
    ],
  });

const basicEntry = z
  .looseObject({
    type: z.literal('basic'),
    passwordHash: nonEmptyString('a password hash').optional().meta({
      description:
        'The scrypt hash of the dataset password, as `pp-token hash-password` prints it: "$scrypt$ln=…,r=…,p=…$salt$hash". Never the password itself.',
    }),
    tokenSecret: secretSource.optional().meta({
      description:
        'HMAC secret (at least 32 bytes) this server signs the tokens it issues for the password with; every replica needs the same one.',
    }),
    maxTokenAge: z
      .int({ error: 'expected a whole number of seconds' })
      .min(60, { error: 'expected at least 60 seconds' })
      .max(PASSWORD_TOKEN_AGE.max, { error: `expected at most ${PASSWORD_TOKEN_AGE.max} seconds` })
      .optional()
      .meta({
        description: `Lifetime of the tokens issued for the password, in seconds. Default ${PASSWORD_TOKEN_AGE.default}.`,
      }),
    headerKey: headerKeySchema,
    ipCheck: ipCheckSchema,
    looseIpCheck: looseIpCheckSchema,
  })
  .meta({
    title: 'basic entry',
    description:
      'A dataset password: the widget asks for it, POST /termdb/login checks it and answers with a short-lived token this server signs; requests carry that token in the headerKey header.',
    additionalProperties: false,
    patternProperties: COMMENT_KEYS_JSON,
    required: ['type', 'passwordHash', 'tokenSecret'],
  });

const simpleEntry = (type: 'open' | 'forbidden', description: string) =>
  z.looseObject({ type: z.literal(type) }).meta({
    title: `${type} entry`,
    description,
    additionalProperties: false,
    patternProperties: COMMENT_KEYS_JSON,
  });

/** One credential entry: what requests for a dataset, route and embedder need. */
export const entrySchema = z.discriminatedUnion(
  'type',
  [
    jwtEntry,
    basicEntry,
    simpleEntry('open', 'Requests need no token.'),
    simpleEntry('forbidden', 'Requests are always refused (403 route_forbidden).'),
  ],
  { error: TYPE_EXPECTED },
);

/** The key levels above the entries, for the JSON Schema; `loadPolicy` reads them in the same order. */
const LEVELS = [
  {
    title: 'dsCredentials',
    description:
      'Access to datasets per route and embedding portal (ProteinPaint dsCredentials). Keys: a dataset label, or "*" for every dataset without its own key. Keys starting with # are comments at every level.',
  },
  {
    title: 'routes',
    description:
      'Keys: "*" or "/**" (every route), "termdb" (sample-level routes only; aggregated results stay open) or a route name such as termdb/samples; "headerKey" names the default token header of the dataset\'s entries.',
  },
  {
    title: 'embedders',
    description:
      'Keys: the embedding portal\'s host as sent in the Origin header: portal.example.org (every port of the host) or localhost:5173 (that port only), or "*" for any embedder, including requests without an Origin.',
  },
] as const;

/**
 * The JSON Schema (draft 2020-12) of the `dsCredentials` block, as committed in `dscredentials.schema.json`:
 * three levels of keys (`#` keys are comments at each), then an entry checked by {@link entrySchema}. It checks
 * shape only; `loadPolicy` adds what needs more than one field or the outside world.
 *
 * @example
 * const schema = dsCredentialsJsonSchema(); // { $schema: 'https://json-schema.org/draft/2020-12/schema', … }
 */
export function dsCredentialsJsonSchema(): Record<string, unknown> {
  const { $schema, ...entry } = z.toJSONSchema(entrySchema, { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  let schema: Record<string, unknown> = entry;
  for (const level of [...LEVELS].reverse()) {
    // A dataset block also takes ProteinPaint's `headerKey`, the default header of its entries; it is no route.
    const datasetHeader = level.title === 'routes';
    schema = {
      type: 'object',
      ...level,
      ...(datasetHeader && {
        properties: {
          headerKey: {
            type: 'string',
            description: `The header of every entry of this dataset that names none. Default ${DEFAULT_HEADER_KEY}.`,
          },
        },
      }),
      patternProperties: { ...COMMENT_KEYS_JSON, [datasetHeader ? '^(?!#)(?!headerKey$)' : '^[^#]']: schema },
      additionalProperties: false,
    };
  }
  return { $schema, ...schema };
}
