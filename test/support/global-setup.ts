import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureService, postgresService, redisService } from './services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Before the end-to-end tests: the package is built (the jest test runs dist/, as a user's jest
 * would; a fresh clone has none yet), Redis and PostgreSQL answer (started when installed but stopped;
 * a missing one fails the run with the command that installs it), and the database "test" exists.
 */
export default async function setup(): Promise<void> {
  if (!existsSync(`${root}dist/testing/index.js`)) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  for (const service of [redisService(), postgresService()]) {
    if ((await ensureService(service)) === 'started') {
      console.log(`${service.name} was not running: started it on 127.0.0.1:${service.port}`);
    }
  }
  const client = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = 'test'");
    if (!rowCount) await client.query('create database test');
  } finally {
    await client.end();
  }
}
