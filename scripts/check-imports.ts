/**
 * `npm run lint` step: the worker's imports go one way. Fails when two worker files import each
 * other through any chain, or when the worker's top-level folders (and root files) do, type-only
 * imports included: a type that points back up is the first step of a tangle.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const WORKER = join(ROOT, 'worker');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s*['"](\.[^'"]+)['"]/g;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names, as TypeScript's bundler resolution finds it. */
function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** A file's unit in the folder graph: its top-level folder under worker/, or the root file itself. */
const unitOf = (file: string) => relative(WORKER, file).split('/')[0];

/** Strongly connected components with more than one member (Tarjan): each is a cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const fileGraph = new Map<string, Set<string>>();
const unitGraph = new Map<string, Set<string>>();
const unresolved: string[] = [];
for (const file of files(WORKER)) {
  const edges = new Set<string>();
  fileGraph.set(file, edges);
  const units = unitGraph.get(unitOf(file)) ?? new Set<string>();
  unitGraph.set(unitOf(file), units);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolveImport(file, spec);
    if (!target) {
      unresolved.push(`${relative(ROOT, file)} → ${spec}`);
      continue;
    }
    if (!target.startsWith(WORKER)) continue;
    edges.add(target);
    if (unitOf(target) !== unitOf(file)) units.add(unitOf(target));
  }
}

const problems = [
  ...unresolved.map((u) => `unresolved import: ${u}`),
  ...cycles(fileGraph).map((c) => `file cycle: ${c.map((f) => relative(ROOT, f)).join(' ⇄ ')}`),
  ...cycles(unitGraph).map((c) => `folder cycle: ${c.map((u) => `worker/${u}`).join(' ⇄ ')}`),
];
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports: ${fileGraph.size} worker files, ${unitGraph.size} top-level units, no cycles`);
