import { runInspect } from '../lib/inspect/main.js';

runInspect(process.argv.slice(2), process.env).then((status) => {
  process.exitCode = status;
});
