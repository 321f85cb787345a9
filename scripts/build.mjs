// Bundles the plugin, the reconciler, the inspect command and the installer into one executable file each, with no node_modules needed.
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';

const bundles = [
  { entry: 'cmd/leasehold.ts', outfile: 'dist/bin/leasehold' },
  { entry: 'cmd/reconcile.ts', outfile: 'dist/bin/leasehold-reconcile' },
  { entry: 'cmd/inspect.ts', outfile: 'dist/bin/leasehold-inspect' },
  { entry: 'cmd/install.ts', outfile: 'dist/bin/leasehold-install' },
];
await mkdir('dist/bin', { recursive: true });
for (const { entry, outfile } of bundles) {
  await build({
    entryPoints: [entry],
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
  console.log(`built ${outfile}`);
}
// Inside the repository the root package.json says "module"; this keeps the bundle loading as it
// does once copied into a CNI bin directory.
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
