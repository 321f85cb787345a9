// Bundles the plugin into one executable file that runs with no node_modules beside it.
import { build } from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';

const outfile = 'dist/bin/leasehold';
await mkdir('dist/bin', { recursive: true });
await build({
  entryPoints: ['cmd/leasehold.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  banner: {
    // ESM bundles lack require(); some dependencies still call it for Node built-ins.
    js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
console.log(`built ${outfile}`);
