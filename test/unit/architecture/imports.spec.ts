import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import graph of lib/ (type imports included), read from the sources: it has no circle, and
// messages flow one way (what sends never imports what receives).

const lib = fileURLToPath(new URL('../../../lib', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** lib-relative file -> the lib-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(lib)) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)].map(
      (m) => m[1],
    );
    graph.set(
      relative(lib, file),
      specifiers.map((s) => relative(lib, resolve(dirname(file), s.replace(/\.js$/, '.ts')))),
    );
  }
  return graph;
}

/** Every circle of the graph, each as the list of files on it (Tarjan's components). */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.toSorted());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function reachable(graph: Map<string, string[]>, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const file = todo.pop()!;
    for (const next of graph.get(file) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

describe('the import graph of lib/', () => {
  const graph = importGraph();

  it('reads every file and its imports', () => {
    expect(graph.get('socket-io.module.ts')).toContain('inbound/socket-io.adapter.ts');
    expect(graph.size).toBeGreaterThan(40);
  });

  it('has no circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle when there is one (the check itself works)', () => {
    const looped = new Map(graph);
    looped.set('queue/remote-clients.ts', [
      ...(graph.get('queue/remote-clients.ts') ?? []),
      'socket-io.module.ts',
    ]);
    expect(circles(looped)).toHaveLength(1);
  });

  it('SocketService and SocketServers import nothing that receives (the adapter, the dispatcher)', () => {
    for (const from of ['outbound/socket.service.ts', 'outbound/socket-servers.ts']) {
      const inbound = [...reachable(graph, from)].filter((f) => f.startsWith('inbound/'));
      expect(inbound, from).toEqual([]);
    }
  });

  it('keeps the copies of Nest and socket.io private details in lib/internals/', () => {
    const nestKey =
      /'(websockets:[a-z_]+|__(routeArguments|customRouteArgs|guards|interceptors|pipes|exceptionFilters)__)'/;
    const socketIoPrivate = /\._nsps\b|\._onclose\b|engine\.opts\.allowRequest|\.packet\s*=/;
    const offenders = [...graph.keys()].filter((file) => {
      if (file.startsWith('internals/')) return false;
      const text = readFileSync(join(lib, file), 'utf8');
      return nestKey.test(text) || socketIoPrivate.test(text);
    });
    expect(offenders).toEqual([]);
  });
});
