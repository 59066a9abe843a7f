import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The major version of the installed Nest (CI runs the suite on 12 and on 11). Nest 11 runs no
 * global guards, interceptors or pipes on gateway handlers and builds no request-scoped gateways;
 * tests assert what each version does.
 */
export const NEST_MAJOR = Number(
  JSON.parse(
    readFileSync(join(dirname(require.resolve('@nestjs/core')), 'package.json'), 'utf8'),
  ).version.split('.')[0],
);
