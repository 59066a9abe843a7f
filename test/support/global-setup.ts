import pg from 'pg';
import {
  ensureService,
  natsService,
  postgresService,
  rabbitmqService,
  redisService,
} from './services.js';

/**
 * Before the end-to-end tests (`npm test` builds dist/ first, for the jest test that runs it as a
 * user's jest would): Redis, PostgreSQL, RabbitMQ and NATS answer (started when
 * installed but stopped;
 * a missing one fails the run with the command that installs it), and the database "test" exists.
 */
export default async function setup(): Promise<void> {
  for (const service of [redisService(), postgresService(), rabbitmqService(), natsService()]) {
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
