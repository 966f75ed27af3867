import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'jobs/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through src/config.ts only.' }],
    },
  },
  {
    // Tests read their own knobs (TEST_DATABASE_URL) and poke at untyped JSON responses.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The domain is pure: no I/O libraries, no environment, no clock of its own.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['bullmq', 'ioredis', 'drizzle-orm*', 'nodemailer', 'fastify*', 'pino*', 'postgres', '@electric-sql/*', 'node:fs*', 'node:child_process', 'node:net'] }],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/domain is pure: take inputs as parameters.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'src/domain takes `now` as a parameter.' }],
    },
  },
  {
    files: ['src/config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
