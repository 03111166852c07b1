#!/usr/bin/env node
// The `townhall` command: runs the build in dist/ (`npm run build`; `npm start` and `npm run demo` build first).
// Plain JavaScript in production; TypeScript runs through tsx only in development and tests.
try {
  await import('../dist/townhall.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/townhall.js')) {
    console.error('townhall: there is no build in dist/ yet: run `npm run build` (npm start and npm run demo do it for you)');
    process.exit(1);
  }
  throw err;
}
