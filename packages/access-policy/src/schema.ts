import { ALGORITHMS } from '@pp-embed/dataset-token';
import * as z from 'zod';

/** The header a token travels in when an entry names none (ProteinPaint's default). */
export const DEFAULT_HEADER_KEY = 'x-ds-access-token';

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
    'looseIpCheck',
  ],
  open: ['type'],
  forbidden: ['type'],
} as const satisfies Record<string, readonly string[]>;

/** The ways a `jwt` entry names its key; exactly one is given. */
export const KEY_FIELDS = ['secret', 'publicKey', 'jwks'] as const;

const ENTRY_TYPES = Object.keys(ENTRY_FIELDS) as (keyof typeof ENTRY_FIELDS)[];
const TYPE_EXPECTED = `expected "type" to be ${ENTRY_TYPES.map((t) => `"${t}"`)
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1')}`;

// `#` keys are comments at every level, as in ProteinPaint. In JSON Schema terms an object level is
// `patternProperties: {"^#": {}}` beside the real members; zod has no key-dependent value type, so each level
// is the intersection of a record that admits any `#` key and one that checks every other key.
const COMMENT = /^#/;
const MEMBER = /^[^#]/;
const COMMENT_KEYS_JSON = { '^#': { description: 'A comment, ignored.' } };

function level<T extends z.ZodType>(
  value: T,
  expected: string,
  meta: { title: string; description: string },
) {
  const error = `expected ${expected}`;
  return z
    .intersection(
      z.looseRecord(z.string().regex(COMMENT), z.unknown(), { error }),
      z.looseRecord(z.string().regex(MEMBER), value, { error }),
    )
    .meta(meta);
}

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

const secretSource = z
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
        z.strictObject(
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
    headerKey: z
      .string({ error: 'expected a header name' })
      .max(256, { error: 'expected a header name of at most 256 characters' })
      .regex(HEADER_NAME, {
        error: "not a valid header name (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)",
      })
      .optional()
      .meta({
        description: `Request header carrying the token, compared case-insensitively. Default ${DEFAULT_HEADER_KEY}.`,
      }),
    looseIpCheck: z.boolean({ error: 'expected true or false' }).optional().meta({
      description:
        'false (default): the token\'s "ip" claim must equal the client address. true: a missing "ip" is accepted and a present one must share the client\'s /24 (IPv4) or /64 (IPv6).',
    }),
  })
  .meta({
    title: 'jwt entry',
    description: 'Requests need a token signed by the portal, in the headerKey header.',
    additionalProperties: false,
    patternProperties: COMMENT_KEYS_JSON,
    // One key source per entry: which key checks a token must be written in the config, not chosen by us.
    oneOf: KEY_FIELDS.map((field) => ({ required: [field] })),
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
    simpleEntry('open', 'Requests need no token.'),
    simpleEntry('forbidden', 'Requests are always refused (403 route_forbidden).'),
  ],
  { error: TYPE_EXPECTED },
);

/** Embedder key (portal host, or `*`) → entry. */
export const embedderBlockSchema = level(entrySchema, 'an object whose keys are portal hosts or "*"', {
  title: 'embedders',
  description:
    'Keys: the embedding portal\'s host as sent in the Origin header (portal.example.org, localhost:5173), or "*" for any embedder, including requests without an Origin.',
});

/** Route key (`*`, `termdb` or a route name) → embedders. */
export const routeBlockSchema = level(
  embedderBlockSchema,
  'an object whose keys are route names, "termdb" or "*"',
  {
    title: 'routes',
    description:
      'Keys: "*" (every route), "termdb" (sample-level routes only; aggregated results stay open) or a route name such as termdb/samples.',
  },
);

/**
 * The `dsCredentials` block of serverconfig.json, as a zod schema: ProteinPaint's documented shape plus our
 * extensions. It checks shape only; `loadPolicy` adds the checks that need more than one field or the outside
 * world (one key source, secret strength, host syntax, environment variables). Compose it into a schema of the
 * whole serverconfig.json and turn that into JSON Schema with `z.toJSONSchema`.
 *
 * @example
 * const serverConfigSchema = z.object({ port: z.number(), dsCredentials: dsCredentialsSchema.optional() });
 * writeFileSync('serverconfig.schema.json', JSON.stringify(z.toJSONSchema(serverConfigSchema), null, 2));
 */
export const dsCredentialsSchema = level(routeBlockSchema, 'an object whose keys are dataset labels or "*"', {
  title: 'dsCredentials',
  description:
    'Access to datasets per route and embedding portal (ProteinPaint dsCredentials). Keys: a dataset label, or "*" for every dataset without its own key. Keys starting with # are comments at every level.',
});

/** The input type of a `dsCredentials` block. */
export type DsCredentialsInput = z.input<typeof dsCredentialsSchema>;

/**
 * The JSON Schema (draft 2020-12) of the `dsCredentials` block, as committed in `dscredentials.schema.json`.
 *
 * @example
 * const schema = dsCredentialsJsonSchema(); // { $schema: 'https://json-schema.org/draft/2020-12/schema', … }
 */
export function dsCredentialsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(dsCredentialsSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
