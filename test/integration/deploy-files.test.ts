/**
 * compose.yaml, .env.example and the Dockerfile against the code: no Docker engine here, so these
 * structural checks are what keeps them from drifting. compose.yaml is written in a restricted YAML
 * style (block mappings and lists, JSON-style quoted scalars and flow lists, full-line comments);
 * the reader below refuses anything else, so a file it accepts means what it says.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config.js';
import { ROOT } from '../support/cli.js';

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type Line = { no: number; indent: number; text: string };

function scalar(raw: string, no: number): Yaml {
  const s = raw.trim();
  if (s.startsWith('"') || s.startsWith('[')) {
    try {
      return JSON.parse(s) as Yaml;
    } catch {
      throw new Error(`line ${no}: not a JSON-style quoted string or flow list: ${s}`);
    }
  }
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^[{&*!|>'%@`]/.test(s) || / #/.test(s) || /: /.test(s)) throw new Error(`line ${no}: unsupported YAML in a plain scalar: ${s}`);
  return s;
}

/** Block mappings and lists of scalars, two-space indents; throws on anything outside that subset. */
function parseRestrictedYaml(text: string): { [key: string]: Yaml } {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    if (/\t/.test(raw)) throw new Error(`line ${i + 1}: tab`);
    const indent = raw.length - raw.trimStart().length;
    if (indent % 2 !== 0) throw new Error(`line ${i + 1}: odd indentation`);
    lines.push({ no: i + 1, indent, text: raw.trim() });
  });
  let i = 0;
  const block = (indent: number): Yaml => {
    const first = lines[i];
    if (!first || first.indent !== indent) throw new Error(`line ${first?.no ?? 'EOF'}: expected indentation ${indent}`);
    if (first.text.startsWith('- ')) {
      const list: Yaml[] = [];
      while (lines[i] && (lines[i] as Line).indent === indent && (lines[i] as Line).text.startsWith('- ')) {
        const l = lines[i++] as Line;
        const item = l.text.slice(2);
        if (/^[A-Za-z0-9_.-]+:( |$)/.test(item)) throw new Error(`line ${l.no}: mappings inside lists are outside the subset`);
        list.push(scalar(item, l.no));
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (lines[i] && (lines[i] as Line).indent === indent) {
      const l = lines[i++] as Line;
      const m = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(l.text);
      if (!m) throw new Error(`line ${l.no}: expected "key: value" or "key:"`);
      const key = m[1] as string;
      if (key in map) throw new Error(`line ${l.no}: duplicate key ${key}`);
      if (m[2] !== undefined && m[2].trim() !== '') map[key] = scalar(m[2], l.no);
      else map[key] = lines[i] && (lines[i] as Line).indent > indent ? block(indent + 2) : null;
    }
    if (lines[i] && (lines[i] as Line).indent > indent) throw new Error(`line ${(lines[i] as Line).no}: unexpected indentation`);
    return map;
  };
  const doc = block(0);
  if (i !== lines.length) throw new Error(`line ${lines[i]?.no}: not read`);
  return doc as { [key: string]: Yaml };
}

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const compose = parseRestrictedYaml(read('compose.yaml'));
const services = compose['services'] as { [name: string]: { [key: string]: Yaml } };
const configVars = Object.keys(configSchema.shape).sort();
const COMPOSE_ONLY = ['POSTGRES_PASSWORD'];

/** docker compose's ${VAR:-default} and ${VAR} with an empty environment. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, _name: string, fallback: string | undefined) => fallback ?? '');
}

/** The sub-commands in src/cli.ts's command table. */
function cliCommands(): string[] {
  const src = read('src/cli.ts');
  const table = /const commands: Record<string, Command> = \{([\s\S]*?)\n\};/.exec(src)?.[1] ?? '';
  return [...table.matchAll(/^\s+'?([a-z-]+)'?: /gm)].map((m) => m[1] as string);
}

interface Stage {
  name: string;
  lines: string[];
}

function dockerStages(): Stage[] {
  const text = read('Dockerfile').replace(/\\\r?\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1] ?? `stage${stages.length}`, lines: [] });
    else stages[stages.length - 1]?.lines.push(line);
  }
  return stages;
}

describe('compose.yaml', () => {
  it('has the services of a deployment, with the images asked for', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'mailpit', 'migrate', 'postgres', 'redis', 'worker']);
    expect(services['postgres']?.['image']).toMatch(/^postgres:16(\b|$)/);
    expect(services['redis']?.['image']).toMatch(/^redis:7(\b|$)/);
    expect(services['mailpit']?.['image']).toMatch(/^axllent\/mailpit:/);
    const redisCommand = services['redis']?.['command'] as string[];
    expect(redisCommand[0]).toBe('redis-server');
    expect(redisCommand.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redisCommand.join(' ')).toContain('--appendonly yes');
    const volumes = Object.keys(compose['volumes'] as object);
    for (const s of Object.values(services)) {
      for (const v of (s['volumes'] as string[] | undefined) ?? []) expect(volumes).toContain(v.split(':')[0]);
    }
  });

  it('builds fristvagt from ./Dockerfile and runs commands that exist in src/cli.ts', () => {
    const commands = cliCommands();
    expect(commands).toEqual(expect.arrayContaining(['migrate', 'api', 'worker', 'config']));
    const own = Object.entries(services).filter(([, s]) => s['build'] !== undefined);
    expect(own.map(([n]) => n).sort()).toEqual(['api', 'migrate', 'worker']);
    for (const [name, s] of own) {
      const build = s['build'] as { context: string; dockerfile: string };
      expect(existsSync(join(ROOT, build.context, build.dockerfile)), name).toBe(true);
      expect(s['image'], name).toBe('fristvagt:local');
      const command = s['command'] as string[];
      expect(commands, `${name}: ${command.join(' ')}`).toContain(command[0]);
    }
    expect(services['migrate']?.['command']).toEqual(['migrate']);
    expect(services['api']?.['command']).toEqual(['api']);
    expect(services['worker']?.['command']).toEqual(['worker']);
    expect((services['worker']?.['deploy'] as { replicas: number }).replicas).toBe(2);
    // A health check that runs the CLI must name a command it has.
    const workerCheck = (services['worker']?.['healthcheck'] as { test: string[] }).test;
    expect(workerCheck.slice(1, 3)).toEqual(['node', 'dist/src/cli.js']);
    expect(commands).toContain(workerCheck[3]);
  });

  it('starts the API and the workers only after the migration has completed and the services are healthy', () => {
    expect(services['migrate']?.['restart']).toBe('no');
    expect(services['migrate']?.['depends_on']).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'worker']) {
      const deps = services[name]?.['depends_on'] as { [s: string]: { condition: string } };
      expect(deps['migrate']?.condition, name).toBe('service_completed_successfully');
      expect(deps['postgres']?.condition, name).toBe('service_healthy');
      expect(deps['redis']?.condition, name).toBe('service_healthy');
    }
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries((s['depends_on'] as { [s: string]: { condition: string } } | undefined) ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
        if (condition === 'service_healthy') expect((services[dep]?.['healthcheck'] as { test?: unknown } | undefined)?.test, `${dep} needs a health check`).toBeDefined();
      }
    }
    for (const name of ['postgres', 'redis', 'mailpit', 'api', 'worker']) {
      expect(Array.isArray((services[name]?.['healthcheck'] as { test?: unknown } | undefined)?.test), name).toBe(true);
    }
    expect(services['migrate']?.['healthcheck']).toEqual({ disable: true });
  });

  it('gives fristvagt only variables src/config.ts knows, with values it accepts, pointing at the compose services', () => {
    for (const name of ['migrate', 'api', 'worker']) {
      const env = services[name]?.['environment'] as { [k: string]: string };
      for (const key of Object.keys(env)) expect(configVars, `${name}: ${key}`).toContain(key);
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v))]));
      expect(() => loadConfig(resolved), name).not.toThrow();
      expect(new URL(resolved['DATABASE_URL'] ?? '').host, name).toBe('postgres:5432');
      if (name !== 'migrate') {
        expect(new URL(resolved['REDIS_URL'] ?? '').host, name).toBe('redis:6379');
        expect(resolved['SMTP_URL'], name).toBe('smtp://mailpit:1025');
        expect(resolved['FRISTVAGT_MIGRATE_ON_START'], name).toBe('false');
      }
    }
    const pg = services['postgres']?.['environment'] as { [k: string]: string };
    const dbUrl = new URL(interpolate((services['api']?.['environment'] as { [k: string]: string })['DATABASE_URL'] ?? ''));
    expect(dbUrl.username).toBe(pg['POSTGRES_USER']);
    expect(decodeURIComponent(dbUrl.password)).toBe(interpolate(pg['POSTGRES_PASSWORD'] ?? ''));
    expect(dbUrl.pathname).toBe(`/${pg['POSTGRES_DB']}`);
  });

  it('publishes the port the image exposes and the API listens on', () => {
    const expose = /^EXPOSE\s+(\d+)/m.exec(read('Dockerfile'))?.[1];
    const env = services['api']?.['environment'] as { [k: string]: string };
    const ports = services['api']?.['ports'] as string[];
    expect(ports.map((p) => p.split(':').at(-1))).toContain(expose);
    expect(env['PORT']).toBe(expose);
    expect(env['HOST']).toBe('0.0.0.0');
  });
});

describe('.env.example', () => {
  const text = read('.env.example');
  const lines = text.split('\n');
  const assigned = lines.map((l, i) => ({ i, m: /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l) })).filter((x) => x.m);

  it('lists every variable of src/config.ts once, and nothing else but the compose password', () => {
    const names = assigned.map((a) => a.m?.[1] as string);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !COMPOSE_ONLY.includes(n)).sort()).toEqual(configVars);
  });

  it('explains each variable with its default and an example, and every value given is accepted', () => {
    for (const { i, m } of assigned) {
      const comment: string[] = [];
      for (let j = i - 1; j >= 0 && (lines[j] as string).startsWith('#'); j--) comment.unshift(lines[j] as string);
      const name = m?.[1] as string;
      expect(comment.length, `${name} has a comment`).toBeGreaterThanOrEqual(2);
      expect(comment.join('\n'), name).toMatch(/Default/);
      expect(comment.join('\n'), name).toMatch(/Example: \S/);
    }
    const env = Object.fromEntries(assigned.filter((a) => !COMPOSE_ONLY.includes(a.m?.[1] as string)).map((a) => [a.m?.[1] as string, a.m?.[2] as string]));
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('defines every ${VAR} compose.yaml interpolates', () => {
    const used = [...read('compose.yaml').matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string);
    const defined = assigned.map((a) => a.m?.[1] as string);
    for (const v of new Set(used)) expect(defined, v).toContain(v);
  });
});

describe('Dockerfile', () => {
  const stages = dockerStages();
  const runtime = stages[stages.length - 1] as Stage;
  const build = stages.find((s) => s.name === 'build') as Stage;
  const copies = (stage: Stage): string[] => stage.lines.filter((l) => /^COPY\s/i.test(l)).map((l) => l.replace(/\s+/g, ' '));

  it('starts the CLI the package declares, with api as the default command', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: { fristvagt: string } };
    expect(runtime.lines).toContain(`ENTRYPOINT ["node", "${pkg.bin.fristvagt}"]`);
    expect(runtime.lines).toContain('CMD ["api"]');
    expect(existsSync(join(ROOT, pkg.bin.fristvagt.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('patches the postgres driver after an install that skips scripts, before pruning', () => {
    // `npm ci --ignore-scripts` skips package.json's postinstall: the build must run the patch itself.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts['postinstall']).toBe('node scripts/patch-postgres.mjs');
    expect(pkg.dependencies['postgres']).toMatch(/^\d+\.\d+\.\d+$/);
    const runs = build.lines.filter((l) => /^RUN\s/i.test(l));
    const install = runs.findIndex((l) => l.includes('npm ci'));
    const patch = runs.findIndex((l) => l.includes('node scripts/patch-postgres.mjs'));
    const prune = runs.findIndex((l) => l.includes('npm prune'));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(patch).toBeGreaterThanOrEqual(install);
    expect(prune).toBeGreaterThan(patch);
    const line = runs[install] ?? '';
    if (patch === install) expect(line.indexOf('npm ci')).toBeLessThan(line.indexOf('patch-postgres'));
    expect(copies(build).join('\n')).toMatch(/^COPY scripts\/patch-postgres\.mjs /m);
  });

  it('builds from every source directory tsconfig.build.json compiles', () => {
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    for (const dir of include) expect(copies(build).some((c) => c.startsWith(`COPY ${dir} `)), dir).toBe(true);
  });

  it('copies into the runtime image what the runtime reads from the package root', () => {
    const runtimeCopies = copies(runtime).join('\n');
    for (const path of ['dist', 'templates', 'src/db/migrations', 'node_modules', 'package.json']) {
      expect(runtimeCopies, path).toMatch(new RegExp(`COPY --from=build /app/${path.replace(/[/.]/g, '\\$&')} \\./${path.replace(/[/.]/g, '\\$&')}$`, 'm'));
    }
    // Every `join(packageRoot(), '<dir>', …)` in the code names a directory the image has.
    const walk = (dir: string): string[] => readdirSync(join(ROOT, dir)).flatMap((f) => (statSync(join(ROOT, dir, f)).isDirectory() ? walk(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
    const read_ = [...['src', 'jobs', 'templates'].flatMap(walk)].flatMap((f) => [...read(f).matchAll(/join\(packageRoot\(\), '([^']+)'/g)].map((m) => m[1] as string));
    expect(read_.length).toBeGreaterThan(0);
    for (const p of new Set(read_)) expect(runtimeCopies, p).toContain(`/app/${p} ./${p}`);
  });
});
