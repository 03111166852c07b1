/** The shared evaluation data, read-only at ../shared/data next to the project: tests that need it fail, never skip, without it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The path of a shared data file; throws (so the test fails) when it is not there. */
export function sharedData(rel: string): string {
  const p = path.resolve(ROOT, '../shared/data', rel);
  if (!existsSync(p)) throw new Error(`the shared data file ${p} is missing: this test needs ../shared/data next to the project`);
  return p;
}
