// Lint rules: the recommended sets, type-aware where it pays, nothing stylistic (formatting is the editor's job) —
// and the border, kept by import rules: src/ (the core) never imports adapters/, fakes/ or a platform SDK; an adapter
// imports only the border (src/core/index.ts), the adapter kit and its own folder; nothing in product code imports test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_TEST = { regex: '^(\\.\\.?/)+(.*/)?test/', message: 'product code never imports test/: move what it needs out of test/.' };
const SDK_MESSAGE = "the core never imports a platform SDK: that is an adapter's job (adapters/<platform>).";
const PLATFORM_SDKS = ['telegraf', 'discord.js', 'twitter-api-v2', 'twitter-text'].map((name) => ({ name, message: SDK_MESSAGE }));
const PLATFORM_SDK_SCOPES = { regex: '^(@telegraf|@discordjs|@slack)/', message: SDK_MESSAGE };
const ONLY_THE_BORDER = { regex: '^(\\.\\./)+src/(?!core/index\\.js$)', message: 'adapters and fakes import Townhall only through the border, src/core/index.ts.' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**', 'test-results/**', 'src/http/dashboard/static/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: PLATFORM_SDKS, patterns: [NO_TEST, PLATFORM_SDK_SCOPES, { regex: '^(\\.\\./)+(adapters|fakes)/', message: 'src/ never imports adapters/ or fakes/: they are handed in by the composition root (townhall.ts).' }] }],
    },
  },
  {
    files: ['adapters/*/**/*.ts'],
    ignores: ['adapters/kit/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_TEST, ONLY_THE_BORDER, { regex: '^\\.\\./(?!kit/|\\.\\./src/core/index\\.js$)', message: 'an adapter imports the border, the kit (adapters/kit) and its own folder only: not another adapter, not a fake.' }] }],
    },
  },
  {
    files: ['adapters/kit/**/*.ts', 'adapters/index.ts', 'fakes/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_TEST, ONLY_THE_BORDER, { regex: '^(\\.\\./)+(fakes|adapters)/', message: 'the kit, the adapter list and the fakes do not import each other.' }] }],
    },
  },
  {
    files: ['bench/**/*.ts', 'config/**/*.ts', 'scripts/**/*.ts', 'townhall.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_TEST] }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', document: 'readonly', window: 'readonly', fetch: 'readonly', EventSource: 'readonly', localStorage: 'readonly' } },
  },
);
