import { runReconciler } from '../lib/reconcile/main.js';

runReconciler(process.argv.slice(2), process.env).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(
      `leasehold-reconcile: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
