// Type-checks every grafana/dashboards/*.json against the dashboard model Grafana publishes as TypeScript types
// (@grafana/schema): each file becomes `const dashboard: Dashboard = <its JSON>` (an object literal, so unknown
// properties and wrong literal types are errors) and tsc --strict must accept it. Exit code 0 = all pass.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

// Fields typed as TypeScript string enums: a JSON string can never be assigned to them in TS, so the value is
// looked up in the enum Grafana ships at run time and written as the enum member (unknown values fail).
const schema = createRequire(import.meta.url)('@grafana/schema');
const enums = { thresholds: { mode: 'ThresholdsMode' }, color: { mode: 'FieldColorModeId' } };
function toTs(value, parentKey, problems, used) {
  if (Array.isArray(value)) return '[' + value.map((v) => toTs(v, parentKey, problems, used)).join(', ') + ']';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  return '{' + Object.entries(value).map(([k, v]) => {
    const enumName = enums[parentKey]?.[k];
    if (enumName && typeof v === 'string') {
      const member = Object.entries(schema[enumName]).find(([, val]) => val === v)?.[0];
      if (!member) { problems.push(`${parentKey}.${k} = "${v}" is not a ${enumName}`); return `${JSON.stringify(k)}: ${JSON.stringify(v)}`; }
      used.add(enumName);
      return `${JSON.stringify(k)}: ${enumName}.${member}`;
    }
    return `${JSON.stringify(k)}: ${toTs(v, k, problems, used)}`;
  }).join(', ') + '}';
}

// An annotation's target is its datasource's query type (AnnotationQuery<TQuery>); the dashboards' annotations are
// InfluxQL ones, whose target is the InfluxDB plugin's query (InfluxQuery: the raw InfluxQL and the annotation field
// mappings, which name the columns giving an annotation's text, tags, region end and title).
const influxAnnotation =
  `interface InfluxAnnotationTarget extends DataQuery {\n` +
  `  query: string; rawQuery: boolean; resultFormat: 'time_series' | 'table'; fromAnnotations: boolean;\n` +
  `  textColumn?: string; tagsColumn?: string; timeEndColumn?: string; titleColumn?: string;\n}\n` +
  `type InfluxDashboard = Omit<Dashboard, 'annotations'> & { annotations?: { list?: AnnotationQuery<InfluxAnnotationTarget>[] } };\n`;

const here = dirname(fileURLToPath(import.meta.url));
const dashboards = process.argv[2] ?? join(here, '..', 'dashboards');
const work = mkdtempSync(join(here, '.check-'));
try {
  const files = readdirSync(dashboards).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no dashboards in ${dashboards}`);
  for (const f of files) {
    const json = JSON.parse(readFileSync(join(dashboards, f), 'utf8'));
    const problems = [], used = new Set();
    const body = toTs(json, '', problems, used);
    for (const p of problems) { console.error(`${f}: ${p}`); process.exitCode = 1; }
    writeFileSync(join(work, f.replace(/\.json$/, '.ts')),
      `// generated from ${f}\nimport type { AnnotationQuery, Dashboard, DataQuery } from '@grafana/schema';\n` +
      (used.size ? `import { ${[...used].join(', ')} } from '@grafana/schema';\n` : '') +
      influxAnnotation +
      `export const dashboard: InfluxDashboard = ${body};\n`);
  }
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler',
      skipLibCheck: true, types: [], typeRoots: [join(here, 'node_modules', '@types')], baseUrl: here,
      paths: { '@grafana/schema': [join(here, 'node_modules', '@grafana', 'schema')] } },
    include: ['*.ts'],
  }));
  const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(work, 'tsconfig.json')], { stdio: 'pipe', cwd: here });
  } catch (e) {
    process.stderr.write((String(e.stdout ?? '') + String(e.stderr ?? '')).replace(/\.check-\w+\//g, ''));
    process.exitCode = 1;
  }
  if (process.exitCode !== 1) console.log(`@grafana/schema: ${files.length} dashboards type-check (${files.join(', ')})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
