import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rewriteImports } from './ab-tree.js';

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

function pkg(name: string, exports: Record<string, string>, files: Record<string, string>): void {
  const dir = join(root, 'packages', name);
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  const ex = Object.fromEntries(
    Object.entries(exports).map(([k, v]) => [k, { '@vmalab/source': v, default: 'dist/x.js' }]),
  );
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `@vmalab/${name}`, exports: ex }),
  );
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
}

describe('ab: rewriteImports', () => {
  it("points every @vmalab import at the copy's own source entries, subpaths included", () => {
    root = mkdtempSync(join(tmpdir(), 'vmalab-ab-'));
    pkg(
      'core',
      { '.': './src/index.ts', './stats': './src/stats.ts' },
      {
        'src/index.ts': 'export const x = 1;\n',
        'src/stats.ts': 'export const y = 2;\n',
      },
    );
    pkg(
      'mm',
      { '.': './src/index.ts' },
      {
        'src/index.ts': [
          "import { x } from '@vmalab/core';",
          'import { y } from "@vmalab/core/stats";',
          "import { z } from '@vmalab/unknown';",
          "import { w } from './sub/w.js';",
          '',
        ].join('\n'),
        'src/sub/w.ts': "export { x as w } from '@vmalab/core';\n",
      },
    );
    expect(rewriteImports(join(root, 'packages'))).toBe(2);
    const mm = readFileSync(join(root, 'packages', 'mm', 'src', 'index.ts'), 'utf8');
    expect(mm).toContain("from '../../core/src/index.ts'");
    expect(mm).toContain('from "../../core/src/stats.ts"');
    expect(mm).toContain("from '@vmalab/unknown'"); // not in the copy: left alone
    expect(mm).toContain("from './sub/w.js'");
    const w = readFileSync(join(root, 'packages', 'mm', 'src', 'sub', 'w.ts'), 'utf8');
    expect(w).toContain("from '../../../core/src/index.ts'");
    expect(rewriteImports(join(root, 'packages'))).toBe(0); // idempotent
  });
});
