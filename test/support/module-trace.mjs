/**
 * `node --import ./test/support/module-trace.mjs …`: at exit, writes every module the process loaded
 * (ES modules through a resolve hook, CommonJS modules from require's cache) to the file named by
 * FRISTVAGT_MODULE_TRACE, one file URL or path a line. test/integration/cli-startup.test.ts uses it
 * to check what each `fristvagt` sub-command loads.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import process from 'node:process';

const out = process.env['FRISTVAGT_MODULE_TRACE'];
if (out) {
  writeFileSync(out, '');
  const hooks = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      if (r.url.startsWith('file:')) appendFileSync(${JSON.stringify(out)}, r.url + '\\n');
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const cjs = Object.keys(require.cache);
    if (cjs.length > 0) appendFileSync(out, `${cjs.join('\n')}\n`);
  });
}
