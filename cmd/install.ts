import { runInstaller } from '../lib/install/main.js';

runInstaller(process.argv.slice(2), process.env).then((status) => {
  process.exitCode = status;
});
