// Writes serverconfig.schema.json from the zod schemas, for editors' autocompletion.
import { writeFileSync } from 'node:fs';
import { serverConfigJsonSchema } from '../src/config.js';

const file = new URL('../serverconfig.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(serverConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
