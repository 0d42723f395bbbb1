/**
 * Saved runs and their comparison. `--save NAME` writes the run's JSON to
 * `.vmalab/runs/NAME.json` under the current directory; `--compare NAME|FILE`
 * and `vmalab compare A B` read a saved name or any JSON file written by
 * `--json`/`--save`.
 *
 * Cells are matched by their key (workload, every parameter, strategies with
 * resolved options, address-space options). Only matched cells enter the
 * geomean; the others are listed. Timings from different machines, Node
 * versions or commits are not comparable like for like: a difference is
 * reported as a warning.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  compareSamples,
  type Delta,
  formatDelta,
  formatNs,
  formatPercent,
  geomean,
} from '@vmalab/core/stats';
import { UsageError } from './presets.js';
import {
  type CellJson,
  type Environment,
  type RunJson,
  renderMarkdown,
  renderTable,
  SCHEMA,
} from './report.js';

export const RUNS_DIR = join('.vmalab', 'runs');

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function savePath(name: string, cwd = process.cwd()): string {
  if (!NAME_RE.test(name) || name.endsWith('.json')) {
    throw new UsageError(
      `--save '${name}': a run name is letters, digits, '.', '_' and '-' (it becomes ${join(RUNS_DIR, 'NAME.json')})`,
    );
  }
  return resolve(cwd, RUNS_DIR, `${name}.json`);
}

export function saveRun(doc: RunJson, name: string, cwd = process.cwd()): string {
  const path = savePath(name, cwd);
  mkdirSync(resolve(cwd, RUNS_DIR), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...doc, name }, null, 2)}\n`);
  return path;
}

/** A saved name (`.vmalab/runs/NAME.json`) or a path to a run's JSON. */
export function resolveRun(ref: string, cwd = process.cwd()): string {
  if (NAME_RE.test(ref) && !ref.endsWith('.json')) {
    const p = resolve(cwd, RUNS_DIR, `${ref}.json`);
    if (existsSync(p) || !existsSync(resolve(cwd, ref))) return p;
  }
  return resolve(cwd, ref);
}

export function loadRun(ref: string, cwd = process.cwd()): RunJson {
  const path = resolveRun(ref, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? e;
    throw new UsageError(
      `cannot read run '${ref}' (${path}): ${code}${code === 'ENOENT' ? ` — saved runs live in ${RUNS_DIR}/ under the directory where --save ran` : ''}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as Partial<RunJson>;
  if (d?.schema !== SCHEMA) {
    throw new UsageError(
      `${path}: $.schema: expected '${SCHEMA}', got ${JSON.stringify(d?.schema)} (not a vmalab bench run, or another version)`,
    );
  }
  if (!Array.isArray(d.cells)) throw new UsageError(`${path}: $.cells: expected an array`);
  return d as RunJson;
}

export interface Matched {
  key: string;
  case: string;
  label: string;
  a: CellJson;
  b: CellJson;
  delta: Delta;
}

export interface Comparison {
  matched: Matched[];
  /** Cells of A without a match in B, and of B without one in A. */
  onlyA: CellJson[];
  onlyB: CellJson[];
  /** Geomean of median(B)/median(A) over matched cells (NaN when none). */
  geomean: number;
  /** Environment fields that differ: `cpu: X vs Y`. */
  envDiffs: string[];
}

/** A cell's round values: throughput; a run saved before rounds had `mean`, their medians. */
const roundMedians = (c: CellJson) => c.timing.rounds.map((r) => r.mean ?? r.median);

export function compareRuns(a: RunJson, b: RunJson, seed = 1): Comparison {
  const byKey = new Map(b.cells.map((c) => [c.key, c]));
  const matched: Matched[] = [];
  const onlyA: CellJson[] = [];
  for (const ca of a.cells) {
    const cb = byKey.get(ca.key);
    if (!cb) {
      onlyA.push(ca);
      continue;
    }
    byKey.delete(ca.key);
    matched.push({
      key: ca.key,
      case: ca.case,
      label: ca.strategies.label,
      a: ca,
      b: cb,
      delta: compareSamples(roundMedians(cb), roundMedians(ca), { seed }),
    });
  }
  return {
    matched,
    onlyA,
    onlyB: [...byKey.values()],
    geomean: geomean(matched.map((m) => m.b.timing.median / m.a.timing.median)),
    envDiffs: environmentDiffs(a.environment, b.environment),
  };
}

export function environmentDiffs(a: Environment, b: Environment): string[] {
  const out: string[] = [];
  const fields: [keyof Environment, string][] = [
    ['cpu', 'CPU'],
    ['cores', 'cores'],
    ['node', 'Node'],
    ['commit', 'commit'],
  ];
  for (const [k, name] of fields) {
    if (a[k] !== b[k]) {
      const show = (v: unknown) =>
        k === 'commit' && typeof v === 'string' ? v.slice(0, 12) : String(v ?? 'unknown');
      out.push(`${name} ${show(a[k])} vs ${show(b[k])}`);
    }
  }
  return out;
}

/** The warning line for stderr, or undefined when the environments match. */
export function environmentWarning(
  c: Comparison,
  nameA: string,
  nameB: string,
): string | undefined {
  if (c.envDiffs.length === 0) return undefined;
  const commitOnly = c.envDiffs.every((d) => d.startsWith('commit'));
  return `warning: ${nameA} and ${nameB} ran in different environments (${c.envDiffs.join('; ')})${commitOnly ? '' : ': timing differences may come from the machine, not the code — re-run both on one machine to compare'}`;
}

export function formatComparison(
  c: Comparison,
  nameA: string,
  nameB: string,
  format: 'table' | 'md' = 'table',
): string {
  const cases = [...new Set(c.matched.map((m) => m.case))];
  const sections = cases.map((cs) => ({
    title: cs,
    head: ['strategies', nameA, nameB, 'delta'],
    rows: c.matched
      .filter((m) => m.case === cs)
      .map((m) => [
        m.label,
        formatNs(m.a.timing.median),
        formatNs(m.b.timing.median),
        formatDelta(m.delta),
      ]),
  }));
  const render = format === 'md' ? renderMarkdown : renderTable;
  let out = sections.length
    ? render(sections)
    : `no cell of ${nameA} matches a cell of ${nameB} (same workload, parameters and strategies)\n\n`;
  if (c.matched.length) {
    out += `geomean over ${c.matched.length} matched cell${c.matched.length === 1 ? '' : 's'}: ${formatPercent(c.geomean)} (${nameB} vs ${nameA})\n`;
  }
  const list = (cells: CellJson[], only: string, other: string) =>
    cells.length
      ? `only in ${only} (${cells.length}, not in the geomean; absent from ${other}):\n${cells.map((x) => `  ${x.case} × ${x.strategies.label}`).join('\n')}\n`
      : '';
  out += list(c.onlyA, nameA, nameB) + list(c.onlyB, nameB, nameA);
  return out;
}
