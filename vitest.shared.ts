import { fileURLToPath } from 'node:url';

/** The package name resolves to the sources in tests, so samples import it as users do. */
export const alias = {
  'nest-socketio/testing': fileURLToPath(new URL('./lib/testing/index.ts', import.meta.url)),
  'nest-socketio': fileURLToPath(new URL('./lib/index.ts', import.meta.url)),
};
