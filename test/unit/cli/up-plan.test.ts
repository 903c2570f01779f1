// gantry up's plan: what must change so the server matches the file, and nothing when it does.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseManifest } from '../../../cli/up/manifest.js';
import { MANIFEST_SCHEMA } from '../../../cli/up/manifest-schema.js';
import { describeChange, planChanges, summary, type CurrentState } from '../../../cli/up/plan.js';

const FILE = `
functions:
  hello:
    code: ./hello
    runtime: nodejs20
    handler: index.handler
    memoryMb: 256
    environment: { GREETING: hi }
    schedules:
      - expression: rate(5 minutes)
        input: { b: 1, a: [1, 2] }
apis:
  shop:
    routes:
      - routeKey: GET /hello
        function: hello
      - routeKey: POST /hello
        function: hello
        payloadFormatVersion: "1.0"
`;
const manifest = parseManifest(FILE, 'gantry.yml', '/base');
const SHA = new Map([['hello', 'a'.repeat(64)]]);
const EMPTY: CurrentState = { functions: new Map(), apis: new Map() };

/** The server after applying FILE: the same state, as the server reports it. */
const APPLIED: CurrentState = {
  functions: new Map([
    ['hello', {
      runtime: 'nodejs20', handler: 'index.handler', memoryMb: 256, timeoutMs: 3000, environment: { GREETING: 'hi' }, codeSha256: 'a'.repeat(64),
      schedules: [{ id: 's1', expression: 'rate(5 minutes)', timezone: 'UTC', input: { a: [1, 2], b: 1 } }],
    }],
    ['other', { runtime: 'python3.11', handler: 'app.handler', memoryMb: 128, timeoutMs: 3000, environment: {}, codeSha256: 'b'.repeat(64), schedules: [] }],
  ]),
  apis: new Map([
    ['shop', { protocol: 'http', routes: [
      { id: 'r1', routeKey: 'GET /hello', function: 'hello', payloadFormatVersion: '2.0' as const, apiKeyRequired: false },
      { id: 'r2', routeKey: 'POST /hello', function: 'hello', payloadFormatVersion: '1.0' as const, apiKeyRequired: false },
    ] }],
  ]),
};

t.test('defaults are filled in and the code folder is resolved against the file', async (t) => {
  const f = manifest.functions.hello;
  t.equal(f?.code, '/base/hello');
  t.equal(f?.timeoutMs, 3000);
  t.equal(f?.schedules[0]?.timezone, 'UTC');
  t.equal(manifest.apis.shop?.protocol, 'http');
  t.equal(manifest.apis.shop?.routes[0]?.payloadFormatVersion, '2.0');
});

t.test('against an empty server everything is created, functions before what names them', async (t) => {
  const changes = planChanges(manifest, SHA, EMPTY, { prune: false });
  t.same(changes.map(describeChange), [
    '+ function hello',
    '+ schedule hello: rate(5 minutes) (UTC)',
    '+ api shop (http)',
    '+ route shop: GET /hello → hello',
    '+ route shop: POST /hello → hello',
  ]);
  t.equal(summary(changes), 'Plan: 5 to create, 0 to update, 0 to delete.');
});

t.test('once applied, the plan is empty (key order of inputs does not matter)', async (t) => {
  const changes = planChanges(manifest, SHA, APPLIED, { prune: false });
  t.same(changes, []);
  t.equal(summary(changes), 'No changes: the server matches the file.');
});

t.test('changed code, settings, schedules and routes are updates, deletes and creates', async (t) => {
  const edited = parseManifest(
    FILE.replace('memoryMb: 256', 'memoryMb: 512').replace('rate(5 minutes)', 'rate(1 hour)').replace('payloadFormatVersion: "1.0"', 'payloadFormatVersion: "2.0"'),
    'gantry.yml',
    '/base',
  );
  const changes = planChanges(edited, new Map([['hello', 'c'.repeat(64)]]), APPLIED, { prune: false });
  t.same(changes.map(describeChange), [
    '~ function hello (code, memoryMb: 256 → 512)',
    '- schedule hello: rate(5 minutes) (UTC)',
    '+ schedule hello: rate(1 hour) (UTC)',
    '- route shop: POST /hello → hello',
    '+ route shop: POST /hello → hello',
  ]);
});

t.test('functions and APIs outside the file are deleted only with prune, last', async (t) => {
  t.notOk(planChanges(manifest, SHA, APPLIED, { prune: false }).some((c) => c.action === 'delete'));
  const pruned = planChanges(manifest, SHA, APPLIED, { prune: true });
  t.same(pruned.map(describeChange), ['- function other']);
});

t.test('a route naming a function that exists nowhere, or a changed protocol, is refused', async (t) => {
  const bad = parseManifest(FILE.replace('        function: hello\n        payloadFormatVersion', '        function: ghost\n        payloadFormatVersion'), 'gantry.yml', '/base');
  t.throws(() => planChanges(bad, SHA, APPLIED, { prune: false }), { message: /apis\.shop\.routes\[1\]\.function: no function ghost/ });
  const ws: CurrentState = { ...APPLIED, apis: new Map([['shop', { protocol: 'websocket', routes: [] }]]) };
  t.throws(() => planChanges(manifest, SHA, ws, { prune: false }), { message: /apis\.shop\.protocol/ });
});

t.test('a bad field is one line with its path', async (t) => {
  const cases: [string, RegExp][] = [
    [FILE.replace('memoryMb: 256', 'memoryMb: 99999'), /^gantry\.yml: functions\.hello\.memoryMb: must be <= 10240$/],
    [FILE.replace('memoryMb: 256', 'memory: 256'), /^gantry\.yml: functions\.hello\.memory: is not a known field$/],
    [FILE.replace('    handler: index.handler\n', ''), /^gantry\.yml: functions\.hello\.handler: is required$/],
    [FILE.replace('payloadFormatVersion: "1.0"', 'payloadFormatVersion: "3.0"'), /^gantry\.yml: apis\.shop\.routes\[1\]\.payloadFormatVersion: must be one of "2\.0", "1\.0"$/],
    [FILE.replace('  hello:\n    code', '  "bad name":\n    code'), /^gantry\.yml: functions\.bad name: is not a valid name$/],
    ['functions: [1, 2', /^gantry\.yml:1:\d+: /],
    ['functions: {}\nfunctions: {}\n', /^gantry\.yml:2:1: .*unique/i],
  ];
  for (const [text, want] of cases) {
    try {
      parseManifest(text, 'gantry.yml', '/base');
      t.fail(`accepted: ${want}`);
    } catch (e) {
      t.match((e as Error).message, want);
      t.equal((e as { exitCode?: number }).exitCode, 2, 'a usage error');
      t.notMatch((e as Error).message, /\n/, 'one line');
    }
  }
});

t.test('the checked-in gantry.schema.json is the schema the CLI validates with', async (t) => {
  const onDisk = JSON.parse(readFileSync(new URL('../../../cli/up/gantry.schema.json', import.meta.url), 'utf8')) as unknown;
  t.same(onDisk, JSON.parse(JSON.stringify(MANIFEST_SCHEMA)));
});
