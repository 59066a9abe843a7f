import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// `npm run sample:worker`: two chat instances and a worker, three processes joined by Redis.
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const basePort = Number(process.env.PORT ?? 3001);

const children: ChildProcess[] = [
  start('chat-a', here('./chat-instance.js'), { PORT: String(basePort), INSTANCE_NAME: 'chat-a' }),
  start('chat-b', here('./chat-instance.js'), {
    PORT: String(basePort + 1),
    INSTANCE_NAME: 'chat-b',
  }),
  start('worker', here('./worker.js'), {}),
];

function start(name: string, script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    console.log(`[${name}] exited (${signal ?? code})`);
    // One gone means the sample is broken: stop the others too.
    if (!stopping) stop(code ?? 1);
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
