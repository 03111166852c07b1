/** How tests run the `townhall` command: its TypeScript entry point through tsx, so they test the sources, not a build. */
export const TOWNHALL = ['--import', 'tsx', 'townhall.ts'] as const;
