// Bundles the plugin into one executable file that runs with no node_modules beside it.
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';

const outfile = 'dist/bin/leasehold';
await mkdir('dist/bin', { recursive: true });
await build({
  entryPoints: ['cmd/leasehold.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS, because a CNI bin directory has no package.json to mark an extensionless file as
  // an ES module, and Node.js 20 then loads it as CommonJS.
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // --use-openssl-ca: with Node's bundled roots, the first TLS context parses about 140
  // certificates (30 ms here); the system store is read lazily. The cluster CA is always given.
  banner: { js: '#!/usr/bin/env -S node --use-openssl-ca' },
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
// Inside the repository the root package.json says "module"; this keeps the bundle loading as it
// does once copied into a CNI bin directory.
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
console.log(`built ${outfile}`);
