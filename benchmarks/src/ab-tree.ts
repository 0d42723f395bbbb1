/**
 * The source-tree part of `ab.ts`: a copy of `packages/` made importable on
 * its own, every `@vmalab/PKG[/SUB]` specifier in its TypeScript files
 * replaced by a relative path to that package's `@vmalab/source` entry in the
 * same copy (so the copy never loads the working tree's packages).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Rewrites the imports of the copy at `pkgs`; returns how many files changed. */
export function rewriteImports(pkgs: string): number {
  let rewritten = 0;
  const entries = new Map<string, string>();
  for (const p of readdirSync(pkgs)) {
    const manifest = join(pkgs, p, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string;
      exports?: Record<string, Record<string, string>>;
    };
    for (const [sub, conds] of Object.entries(json.exports ?? {})) {
      const src = conds['@vmalab/source'];
      if (src) entries.set(json.name + sub.slice(1), join(pkgs, p, src));
    }
  }
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(f, 'utf8');
        const out = text.replace(/(['"])(@vmalab\/[\w-]+(?:\/[\w-]+)?)\1/g, (m, q, spec) => {
          const target = entries.get(spec);
          if (!target) return m;
          const rel = relative(dirname(f), target);
          return `${q}${rel.startsWith('.') ? rel : `./${rel}`}${q}`;
        });
        if (out !== text) {
          writeFileSync(f, out);
          rewritten++;
        }
      }
    }
  };
  walk(pkgs);
  return rewritten;
}
