/** The `townhall` command's entry point (bin/townhall.js runs its build, dist/townhall.js). */
import './src/cli/main.js';
