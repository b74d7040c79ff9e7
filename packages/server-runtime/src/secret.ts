/**
 * Secret bytes that stay out of logs, `JSON.stringify`, template strings and `console.log`: only `reveal()` gives
 * them. A configuration or a registry entry holding one can be logged whole without leaking it.
 *
 * @example
 * const secret = new Secret(Buffer.from(process.env.PP_DS_SECRET ?? ''));
 * JSON.stringify({ secret }); // '{"secret":"[redacted]"}'
 * createSigner({ algorithm: 'HS256', key: { secret: secret.reveal() } });
 */
export class Secret {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  reveal(): Uint8Array {
    return this.#bytes;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret [redacted]';
  }
}
