/**
 * A benchmark matrix: strategy sets × workload cases, from command-line axes
 * or a matrix file (benchmarks/matrices/*.json; the schema is in
 * apps/bench/README.md). Expansion resolves every name, option and parameter
 * before anything runs, so a typo is one line naming it (a `UsageError`), not
 * a failure minutes into a run.
 *
 * Strategies come only through `strategy` descriptors: the built-in ones by
 * name, or a user module by path (`./my-index.js`), loaded with import() and
 * checked (role, name, create).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  Counters,
  isGapIndex,
  type Role,
  resolveOptions,
  type StrategyDescriptor,
  type VmaIndex,
} from '@vmalab/core';
import type { MadviseLocking } from '@vmalab/mm';
import type { Workload, WorkloadParam, WorkloadParams } from '@vmalab/workloads';
import { findPreset, PRESETS, type Preset, STRATEGIES, UsageError } from './presets.js';

export type OptionValue = boolean | number | string;
export type OptionAxes = Record<string, OptionValue[]>;

export const ROLES: readonly Role[] = ['index', 'finder', 'rmap'];

/** One workload of a matrix: its parameter axes and step count. */
export interface WorkloadEntry {
  name: string;
  params?: OptionAxes;
  steps?: number;
}

/** A matrix before resolution: what a file or the flags say. */
export interface MatrixSpec {
  description?: string;
  presets?: string[];
  index?: string[];
  finder?: string[];
  rmap?: string[];
  indexOptions?: OptionAxes;
  finderOptions?: OptionAxes;
  rmapOptions?: OptionAxes;
  /** Workloads, or `'all'`: every registered workload. */
  workloads?: WorkloadEntry[] | 'all';
  /** Parameter axes applied to every workload that declares the parameter. */
  params?: OptionAxes;
  steps?: number;
  rounds?: number;
  time?: number;
  warmup?: number;
  seed?: number;
  baseline?: string;
  /** Where relative strategy module paths resolve from (a matrix file's folder). */
  baseDir?: string;
}

export const DEFAULT_STEPS = 100;

/** One strategy of one role, with the options the matrix gives it. */
export interface StrategyChoice {
  descriptor: StrategyDescriptor;
  /** Options as given (preset + axes); defaults are not filled in. */
  options: Record<string, OptionValue>;
  /** Options with defaults filled in (resolveOptions). */
  resolved: Record<string, OptionValue>;
  /** The module path of a user strategy; undefined for a built-in one. */
  module?: string;
}

/** One combination of strategies: a cell's "implementation". */
export interface StrategySet {
  /** Short name for tables and `--baseline`: `linux-6.8`, `maple/gap/batched prealloc=worst-case`. */
  label: string;
  preset?: string;
  index: StrategyChoice;
  finder: StrategyChoice;
  rmap: StrategyChoice;
  /** Address-space options of the set (a preset's process_madvise locking). */
  mm: { madviseLocking?: MadviseLocking };
  /** Canonical identity (strategy names, resolved options, mm options). */
  key: string;
}

/** One workload at one point of its parameter axes. */
export interface WorkloadCase {
  workload: Workload;
  /** Parameters as the matrix gives them. */
  given: Record<string, OptionValue>;
  /** Every parameter, defaults filled in (the instance's `params`). */
  params: WorkloadParams;
  steps: number;
  /** `fork K=821`. */
  label: string;
  key: string;
}

export interface Cell {
  /** Position in the matrix (0-based). */
  id: number;
  case: WorkloadCase;
  set: StrategySet;
  /** Canonical identity for matching cells across runs. */
  key: string;
}

export interface Matrix {
  description?: string;
  sets: StrategySet[];
  cases: WorkloadCase[];
  cells: Cell[];
  baseline: StrategySet;
  steps: number;
  rounds?: number;
  time?: number;
  warmup?: number;
  seed?: number;
}

/** JSON with sorted keys: the same value gives the same text. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------
// Values

/** Parses `name=v1,v2` (a `--param` or `--index-opt` flag). */
export function parseAxisFlag(flag: string, text: string): [string, string[]] {
  const eq = text.indexOf('=');
  const name = text.slice(0, eq).trim();
  const values = text
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim());
  if (eq < 1 || values.some((v) => v === '')) {
    throw new UsageError(`${flag} '${text}': expected NAME=VALUE[,VALUE…]`);
  }
  return [name, values];
}

/** Splits a comma-separated list flag, rejecting empty items. */
export function parseList(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw new UsageError(`${flag} '${text}': empty item in the list`);
  return items;
}

interface ValueSpec {
  name: string;
  type: 'boolean' | 'number' | 'enum';
  values?: readonly string[];
  min?: number;
  max?: number;
}

/** Converts a flag string or JSON value to the spec's type; `what` names it in errors. */
export function coerce(v: OptionValue, spec: ValueSpec, what: string): OptionValue {
  const bad = (expected: string) =>
    new UsageError(`${what} must be ${expected}, got ${JSON.stringify(v)}`);
  if (spec.type === 'number') {
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) throw bad('a number');
    if (spec.min !== undefined && n < spec.min) throw bad(`at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) throw bad(`at most ${spec.max}`);
    return n;
  }
  if (spec.type === 'boolean') {
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw bad('true or false');
  }
  if (typeof v !== 'string' || !spec.values?.includes(v)) {
    throw bad(`one of ${spec.values?.join(' | ')}`);
  }
  return v;
}

function product<T>(axes: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const axis of axes) out = out.flatMap((prefix) => axis.map((v) => [...prefix, v]));
  return out;
}

// ---------------------------------------------------------------------------
// Strategies

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.(c|m)?[jt]s$/.test(s);
}

const moduleCache = new Map<string, StrategyDescriptor>();

/** Loads a user strategy module and checks its `strategy` export. */
export async function loadStrategyModule(
  path: string,
  role: Role,
  baseDir: string,
): Promise<StrategyDescriptor> {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  const cached = moduleCache.get(abs);
  if (cached) return checkRole(cached, role, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ERR_MODULE_NOT_FOUND' ? 'ENOENT' : (err.code ?? err.message);
    throw new UsageError(`cannot load strategy module '${path}': ${why}`);
  }
  const d = mod.strategy as Partial<StrategyDescriptor> | undefined;
  const problem =
    d === undefined || d === null || typeof d !== 'object'
      ? "it exports no 'strategy' descriptor"
      : !ROLES.includes(d.role as Role)
        ? `its strategy.role must be index, finder or rmap, got ${JSON.stringify(d.role)}`
        : typeof d.name !== 'string' || d.name === ''
          ? 'its strategy.name must be a non-empty string'
          : typeof d.create !== 'function'
            ? 'its strategy.create must be a function'
            : d.options !== undefined && !Array.isArray(d.options)
              ? 'its strategy.options must be an array of option specs'
              : undefined;
  if (problem) throw new UsageError(`strategy module '${path}': ${problem}`);
  const given = d as StrategyDescriptor;
  const full: StrategyDescriptor = {
    ...given,
    description: given.description ?? '',
    kernels: given.kernels ?? '',
    options: given.options ?? [],
  };
  moduleCache.set(abs, full);
  return checkRole(full, role, path);
}

function checkRole(d: StrategyDescriptor, role: Role, path: string): StrategyDescriptor {
  if (d.role !== role) {
    throw new UsageError(
      `strategy module '${path}' is a ${d.role} strategy ('${d.name}'), not an ${role} one`,
    );
  }
  return d;
}

/** A built-in strategy by name, or a user module by path. */
export async function findStrategy(
  role: Role,
  nameOrPath: string,
  baseDir: string,
): Promise<{ descriptor: StrategyDescriptor; module?: string }> {
  if (looksLikePath(nameOrPath)) {
    const abs = isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
    return { descriptor: await loadStrategyModule(nameOrPath, role, baseDir), module: abs };
  }
  const d = STRATEGIES.find((s) => s.role === role && s.name === nameOrPath);
  if (d) return { descriptor: d };
  const other = STRATEGIES.find((s) => s.name === nameOrPath);
  const names = STRATEGIES.filter((s) => s.role === role).map((s) => s.name);
  throw new UsageError(
    other
      ? `'${nameOrPath}' is a ${other.role} strategy, not an ${role} one (${role} strategies: ${names.join(', ')})`
      : `unknown ${role} strategy '${nameOrPath}' (available: ${names.join(', ')}; or a path to a module exporting 'strategy')`,
  );
}

function choose(
  descriptor: StrategyDescriptor,
  options: Record<string, OptionValue>,
  module: string | undefined,
): StrategyChoice {
  let resolved: Record<string, OptionValue>;
  try {
    resolved = resolveOptions(descriptor, options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { descriptor, options, resolved, ...(module === undefined ? {} : { module }) };
}

function choiceKey(c: StrategyChoice): unknown {
  return { name: c.descriptor.name, options: c.resolved, module: c.module };
}

function describeChoice(c: StrategyChoice, explicit: readonly string[]): string {
  return [c.descriptor.name, ...explicit.map((k) => `${k}=${String(c.options[k])}`)].join(' ');
}

interface BaseSet {
  preset?: Preset;
  index: StrategyChoice;
  finder: StrategyChoice;
  rmap: StrategyChoice;
}

/**
 * Expands the strategy axes into strategy sets.
 *
 * - `presets` give one base set each. Without presets but with explicit
 *   index/finder/rmap axes, the base is Linux 6.15's strategies at their
 *   defaults (maple, gap, batched); with neither, every preset.
 * - `index`/`finder`/`rmap` replace that role of every base (cartesian
 *   product); a replaced strategy starts from its default options.
 * - `<role>Options` axes multiply the sets whose strategy of that role
 *   declares the option (others are left alone); an option that no strategy
 *   of the matrix declares is an error.
 */
export async function expandStrategies(spec: MatrixSpec): Promise<StrategySet[]> {
  const baseDir = spec.baseDir ?? process.cwd();
  const explicit = ROLES.some((r) => spec[r] !== undefined);
  const bases: BaseSet[] = [];
  const presetNames = spec.presets ?? (explicit ? [] : PRESETS.map((p) => p.name));
  for (const name of presetNames) {
    const p = findPreset(name);
    bases.push({
      preset: p,
      index: choose(p.index[0], { ...p.index[1] } as Record<string, OptionValue>, undefined),
      finder: choose(p.finder[0], { ...p.finder[1] } as Record<string, OptionValue>, undefined),
      rmap: choose(p.rmap[0], { ...p.rmap[1] } as Record<string, OptionValue>, undefined),
    });
  }
  if (bases.length === 0) {
    const by = (role: Role, name: string) =>
      STRATEGIES.find((s) => s.role === role && s.name === name) as StrategyDescriptor;
    bases.push({
      index: choose(by('index', 'maple'), {}, undefined),
      finder: choose(by('finder', 'gap'), {}, undefined),
      rmap: choose(by('rmap', 'batched'), {}, undefined),
    });
  }

  const replacements: Record<
    Role,
    { descriptor: StrategyDescriptor; module?: string }[] | undefined
  > = { index: undefined, finder: undefined, rmap: undefined };
  for (const role of ROLES) {
    const names = spec[role];
    if (names === undefined) continue;
    if (names.length === 0) throw new UsageError(`no ${role} strategy given`);
    const list: { descriptor: StrategyDescriptor; module?: string }[] = [];
    for (const n of names) list.push(await findStrategy(role, n, baseDir));
    replacements[role] = list;
  }

  // Check the option axes against the strategies that will be in the matrix.
  for (const role of ROLES) {
    const axes = spec[`${role}Options`] ?? {};
    const inMatrix =
      replacements[role]?.map((r) => r.descriptor) ?? bases.map((b) => b[role].descriptor);
    for (const [name, values] of Object.entries(axes)) {
      const owners = inMatrix.filter((d) => d.options.some((o) => o.name === name));
      if (owners.length === 0) {
        const known = [...new Set(inMatrix)]
          .map((d) => `${d.name}: ${d.options.map((o) => o.name).join(', ') || 'none'}`)
          .join('; ');
        throw new UsageError(`unknown ${role} option '${name}' (options of ${known})`);
      }
      if (values.length === 0) throw new UsageError(`${role} option '${name}': no values`);
    }
  }

  const sets: StrategySet[] = [];
  const seen = new Set<string>();
  for (const base of bases) {
    const roleChoices = ROLES.map((role) => {
      const reps = replacements[role];
      const starts: { c: StrategyChoice; replaced: boolean }[] = reps
        ? reps.map((r) => ({ c: choose(r.descriptor, {}, r.module), replaced: true }))
        : [{ c: base[role], replaced: false }];
      const axes = Object.entries(spec[`${role}Options`] ?? {});
      return starts.flatMap(({ c, replaced }) => {
        const own = axes.filter(([name]) => c.descriptor.options.some((o) => o.name === name));
        return product(
          own.map(([name, values]) => {
            const optSpec = c.descriptor.options.find((o) => o.name === name) as ValueSpec;
            return values.map(
              (v) =>
                [name, coerce(v, optSpec, `${role} '${c.descriptor.name}' option '${name}'`)] as [
                  string,
                  OptionValue,
                ],
            );
          }),
        ).map((pairs) => ({
          choice: choose(c.descriptor, { ...c.options, ...Object.fromEntries(pairs) }, c.module),
          replaced,
          explicit: pairs.map(([k]) => k),
        }));
      });
    });
    for (const [ix, fx, rx] of product(roleChoices)) {
      if (!ix || !fx || !rx) continue;
      const mm = base.preset?.mm ? { ...base.preset.mm } : {};
      checkCompatible(ix.choice, fx.choice);
      let label: string;
      if (base.preset) {
        const changes = [ix, fx, rx].flatMap((x, i) => [
          ...(x.replaced ? [`${ROLES[i]}=${x.choice.descriptor.name}`] : []),
          ...x.explicit.map((k) => `${k}=${String(x.choice.options[k])}`),
        ]);
        label = [base.preset.name, ...changes].join(' ');
      } else {
        const opts = [ix, fx, rx].flatMap((x) =>
          x.explicit.map((k) => `${k}=${String(x.choice.options[k])}`),
        );
        label = [[ix, fx, rx].map((x) => x.choice.descriptor.name).join('/'), ...opts].join(' ');
      }
      const key = canonical({
        index: choiceKey(ix.choice),
        finder: choiceKey(fx.choice),
        rmap: choiceKey(rx.choice),
        mm,
      });
      if (seen.has(key)) continue;
      seen.add(key);
      sets.push({
        label,
        ...(base.preset && label === base.preset.name ? { preset: base.preset.name } : {}),
        index: ix.choice,
        finder: fx.choice,
        rmap: rx.choice,
        mm,
        key,
      });
    }
  }
  // Equal labels (a user module named like a built-in): add the module path.
  const count = new Map<string, number>();
  for (const s of sets) count.set(s.label, (count.get(s.label) ?? 0) + 1);
  for (const s of sets) {
    if ((count.get(s.label) ?? 0) > 1) {
      const mods = [s.index, s.finder, s.rmap].flatMap((c) => (c.module ? [c.module] : []));
      if (mods.length) s.label = `${s.label} (${mods.join(', ')})`;
    }
  }
  return sets;
}

/** The one combination known not to work: the gap finder needs a gap-tracking index. */
function checkCompatible(index: StrategyChoice, finder: StrategyChoice): void {
  if (finder.module || finder.descriptor.name !== 'gap') return;
  const probe = index.descriptor.create(index.resolved, new Counters()) as VmaIndex;
  if (!isGapIndex(probe)) {
    throw new UsageError(
      `finder 'gap' needs an index that tracks gaps; '${describeChoice(index, Object.keys(index.options))}' does not (use --finder linear or free-area-cache, or rbtree with gaps=raw|guard)`,
    );
  }
}

// ---------------------------------------------------------------------------
// Workloads

function paramList(w: Workload): string {
  return w.params.map((p) => p.name).join(', ') || 'none';
}

/** Expands workload entries × parameter axes into cases, validating every value. */
export function expandWorkloads(
  spec: MatrixSpec,
  registry: readonly Workload[],
  seed: number,
): WorkloadCase[] {
  if (registry.length === 0) {
    throw new UsageError(
      'no workloads are registered yet (@vmalab/workloads exports none): nothing to benchmark',
    );
  }
  const entries: WorkloadEntry[] =
    spec.workloads === undefined || spec.workloads === 'all'
      ? registry.map((w) => ({ name: w.name }))
      : spec.workloads;
  if (entries.length === 0) throw new UsageError('no workload given');
  const selected = entries.map((e) => {
    const w = registry.find((x) => x.name === e.name);
    if (!w) {
      throw new UsageError(
        `unknown workload '${e.name}' (available: ${registry.map((x) => x.name).join(', ')})`,
      );
    }
    return { e, w };
  });
  for (const name of Object.keys(spec.params ?? {})) {
    if (!selected.some(({ w }) => w.params.some((p) => p.name === name))) {
      throw new UsageError(
        `unknown workload parameter '${name}' (${selected.map(({ w }) => `${w.name}: ${paramList(w)}`).join('; ')})`,
      );
    }
  }
  const out: WorkloadCase[] = [];
  const seen = new Set<string>();
  for (const { e, w } of selected) {
    for (const name of Object.keys(e.params ?? {})) {
      if (!w.params.some((p) => p.name === name)) {
        throw new UsageError(
          `unknown parameter '${name}' of workload ${w.name} (parameters: ${paramList(w)})`,
        );
      }
    }
    const axes: [WorkloadParam, OptionValue[]][] = [];
    for (const p of w.params) {
      const values = spec.params?.[p.name] ?? e.params?.[p.name];
      if (values === undefined) continue;
      if (values.length === 0)
        throw new UsageError(`workload ${w.name}: parameter ${p.name}: no values`);
      axes.push([p, values.map((v) => coerce(v, p, `workload ${w.name}: parameter ${p.name}`))]);
    }
    const steps = e.steps ?? spec.steps ?? DEFAULT_STEPS;
    if (!Number.isInteger(steps) || steps < 1) {
      throw new UsageError(`workload ${w.name}: steps must be a positive integer, got ${steps}`);
    }
    for (const combo of product(axes.map(([p, vs]) => vs.map((v) => [p.name, v] as const)))) {
      const given = Object.fromEntries(combo) as Record<string, OptionValue>;
      let params: WorkloadParams;
      try {
        params = w.create(given, seed).params;
      } catch (err) {
        if ((err as Error).name === 'WorkloadParamError')
          throw new UsageError((err as Error).message);
        throw err;
      }
      const key = canonical({ workload: w.name, params });
      if (seen.has(key)) continue;
      seen.add(key);
      const label = [w.name, ...combo.map(([k, v]) => `${k}=${String(v)}`)].join(' ');
      out.push({ workload: w, given, params, steps, label, key });
    }
  }
  return out;
}

/** Resolves a whole matrix: strategy sets, workload cases, the cells and the baseline. */
export async function expandMatrix(
  spec: MatrixSpec,
  registry: readonly Workload[],
): Promise<Matrix> {
  const seed = spec.seed ?? 1;
  const sets = await expandStrategies(spec);
  const cases = expandWorkloads(spec, registry, seed);
  const cells: Cell[] = [];
  for (const c of cases) {
    for (const s of sets) {
      cells.push({
        id: cells.length,
        case: c,
        set: s,
        key: canonical({
          workload: c.workload.name,
          params: c.params,
          strategies: JSON.parse(s.key),
        }),
      });
    }
  }
  const baseline = findBaseline(sets, spec.baseline);
  return {
    ...(spec.description === undefined ? {} : { description: spec.description }),
    sets,
    cases,
    cells,
    baseline,
    steps: spec.steps ?? DEFAULT_STEPS,
    ...(spec.rounds === undefined ? {} : { rounds: spec.rounds }),
    ...(spec.time === undefined ? {} : { time: spec.time }),
    ...(spec.warmup === undefined ? {} : { warmup: spec.warmup }),
    ...(spec.seed === undefined ? {} : { seed: spec.seed }),
  };
}

/** `--baseline`: a set's label, or a preset name / strategy name that matches exactly one set. */
export function findBaseline(sets: readonly StrategySet[], name: string | undefined): StrategySet {
  const first = sets[0];
  if (!first) throw new UsageError('the matrix has no strategy set');
  if (name === undefined) return first;
  const exact = sets.find((s) => s.label === name);
  if (exact) return exact;
  const loose = sets.filter(
    (s) => s.label.split(' ')[0] === name || s.label.split(' ')[0]?.split('/').includes(name),
  );
  if (loose.length === 1 && loose[0]) return loose[0];
  throw new UsageError(
    `baseline '${name}' ${loose.length > 1 ? 'matches several' : 'matches none'} of the strategy sets (${sets.map((s) => s.label).join(', ')})`,
  );
}

// ---------------------------------------------------------------------------
// Matrix files

const FILE_KEYS = [
  '$schema',
  'description',
  'presets',
  'index',
  'finder',
  'rmap',
  'indexOptions',
  'finderOptions',
  'rmapOptions',
  'workloads',
  'params',
  'steps',
  'rounds',
  'time',
  'warmup',
  'seed',
  'baseline',
] as const;

/** Reads and checks a matrix file; errors name the file and the JSON path. */
export function readMatrixFile(path: string): MatrixSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read matrix file '${path}': ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseMatrixJson(json, path, dirname(resolve(path)));
}

export function parseMatrixJson(json: unknown, file: string, baseDir: string): MatrixSpec {
  const fail = (at: string, what: string): never => {
    throw new UsageError(`${file}: ${at}: ${what}`);
  };
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const strings = (v: unknown, at: string): string[] => {
    if (!Array.isArray(v)) return fail(at, 'expected an array of strings');
    return v.map((x, i) =>
      typeof x === 'string' && x !== '' ? x : fail(`${at}[${i}]`, 'expected a non-empty string'),
    );
  };
  const axes = (v: unknown, at: string): OptionAxes => {
    if (!isObj(v)) return fail(at, 'expected an object of NAME: [values]');
    const out: OptionAxes = {};
    for (const [k, vals] of Object.entries(v)) {
      const list = Array.isArray(vals) ? vals : [vals];
      out[k] = list.map((x, i) =>
        typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean'
          ? x
          : fail(`${at}.${k}[${i}]`, 'expected a string, number or boolean'),
      );
    }
    return out;
  };
  const posInt = (v: unknown, at: string): number =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1
      ? v
      : fail(at, 'expected a positive integer');
  const nonNeg = (v: unknown, at: string): number =>
    typeof v === 'number' && v >= 0 ? v : fail(at, 'expected a number ≥ 0');

  if (!isObj(json)) return fail('$', 'expected an object');
  const spec: MatrixSpec = { baseDir };
  for (const [k, v] of Object.entries(json)) {
    const at = `$.${k}`;
    switch (k as (typeof FILE_KEYS)[number]) {
      case '$schema':
        break;
      case 'description':
        spec.description = typeof v === 'string' ? v : fail(at, 'expected a string');
        break;
      case 'presets':
      case 'index':
      case 'finder':
      case 'rmap':
        spec[k as 'presets' | 'index' | 'finder' | 'rmap'] = strings(v, at);
        break;
      case 'indexOptions':
      case 'finderOptions':
      case 'rmapOptions':
      case 'params':
        spec[k as 'indexOptions' | 'finderOptions' | 'rmapOptions' | 'params'] = axes(v, at);
        break;
      case 'workloads':
        if (v === 'all') spec.workloads = 'all';
        else if (!Array.isArray(v)) fail(at, "expected 'all' or an array of workloads");
        else
          spec.workloads = v.map((w, i): WorkloadEntry => {
            const wat = `${at}[${i}]`;
            if (typeof w === 'string') return { name: w };
            if (!isObj(w)) return fail(wat, 'expected a name or { name, params, steps }');
            for (const wk of Object.keys(w)) {
              if (!['name', 'params', 'steps'].includes(wk))
                fail(`${wat}.${wk}`, 'unknown key (keys: name, params, steps)');
            }
            if (typeof w.name !== 'string' || w.name === '')
              fail(`${wat}.name`, 'expected a workload name');
            return {
              name: w.name as string,
              ...(w.params === undefined ? {} : { params: axes(w.params, `${wat}.params`) }),
              ...(w.steps === undefined ? {} : { steps: posInt(w.steps, `${wat}.steps`) }),
            };
          });
        break;
      case 'steps':
      case 'rounds':
        spec[k as 'steps' | 'rounds'] = posInt(v, at);
        break;
      case 'time':
      case 'warmup':
        spec[k as 'time' | 'warmup'] = nonNeg(v, at);
        break;
      case 'seed':
        spec.seed =
          typeof v === 'number' && Number.isInteger(v) ? v : fail(at, 'expected an integer');
        break;
      case 'baseline':
        spec.baseline = typeof v === 'string' ? v : fail(at, 'expected a strategy-set label');
        break;
      default:
        fail(at, `unknown key (keys: ${FILE_KEYS.filter((x) => x !== '$schema').join(', ')})`);
    }
  }
  return spec;
}

/**
 * The flags over a file: an axis given on the command line replaces the
 * file's. Any strategy axis on the command line (preset, index, finder,
 * rmap) replaces all of the file's strategy axes (and its baseline);
 * `--workload` keeps the file's parameters and steps for the workloads it
 * names; `--param` and `--steps` beat the file's per-workload values.
 */
export function mergeSpecs(file: MatrixSpec, flags: MatrixSpec): MatrixSpec {
  const out: MatrixSpec = { ...file };
  const strategyKeys = ['presets', 'index', 'finder', 'rmap'] as const;
  if (strategyKeys.some((k) => flags[k] !== undefined)) {
    // The file's baseline names one of its own strategy sets.
    for (const k of [...strategyKeys, 'baseline'] as const) delete out[k];
    out.baseDir = flags.baseDir ?? process.cwd();
  }
  for (const k of strategyKeys) if (flags[k] !== undefined) out[k] = flags[k];
  for (const k of ['indexOptions', 'finderOptions', 'rmapOptions', 'params'] as const) {
    if (flags[k] !== undefined) out[k] = { ...out[k], ...flags[k] };
  }
  if (flags.workloads !== undefined) {
    const fileEntries = Array.isArray(file.workloads) ? file.workloads : [];
    out.workloads =
      flags.workloads === 'all'
        ? 'all'
        : flags.workloads.map((w) => fileEntries.find((e) => e.name === w.name) ?? w);
  }
  for (const k of ['steps', 'rounds', 'time', 'warmup', 'seed', 'baseline'] as const) {
    if (flags[k] !== undefined) (out as Record<string, unknown>)[k] = flags[k];
  }
  // --steps beats the file's per-workload steps.
  if (flags.steps !== undefined && Array.isArray(out.workloads)) {
    out.workloads = out.workloads.map(({ steps: _, ...rest }) => rest);
  }
  return out;
}
