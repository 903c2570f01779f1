/**
 * `gantry up -f gantry.yml [--yes] [--prune] [--dry-run]`: reads the file and the server, shows
 * the plan, and applies it after confirmation. Applying the same file again plans nothing.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import type { Context } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { deployFunction } from '../function-deployer.js';
import { functionPath, type FunctionConfig } from '../function-types.js';
import { loadManifest, type Manifest, type ScheduleDecl } from '../up/manifest.js';
import { describeChange, PlanError, planChanges, summary, type Change, type CurrentApi, type CurrentFunction, type CurrentState } from '../up/plan.js';
import { zipFolder, type FolderZip } from '../zip-folder.js';
import { apiPath, type Api, type Route } from './apis.js';

export function upCommand(program: Command, ctx: () => Context): void {
  program
    .command('up')
    .description('make the server match gantry.yml: shows the plan, then applies it')
    .option('-f, --file <file>', 'the file declaring functions, APIs, routes and schedules', 'gantry.yml')
    .option('-y, --yes', 'apply without asking')
    .option('--dry-run', 'show the plan only')
    .option('--prune', 'also delete functions and APIs the file does not name')
    .action(async (o: { file: string; yes?: boolean; dryRun?: boolean; prune?: boolean }) => {
      const { out } = ctx();
      const manifest = await loadManifest(o.file);
      const zips = new Map<string, FolderZip>();
      for (const [name, f] of Object.entries(manifest.functions)) {
        try {
          zips.set(name, await zipFolder(f.code));
        } catch (e) {
          if (e instanceof CliError) throw usageError(`${o.file}: functions.${name}.code: ${e.message}`);
          throw e;
        }
      }
      const client = await ctx().client();
      const current = await readState(client, manifest, o.prune === true);
      let changes: Change[];
      try {
        changes = planChanges(manifest, new Map([...zips].map(([k, z]) => [k, z.sha256])), current, { prune: o.prune === true });
      } catch (e) {
        if (e instanceof PlanError) throw usageError(`${o.file}: ${e.message}`);
        throw e;
      }
      const lines = [...changes.map(describeChange), summary(changes)];
      if (!out.json) process.stdout.write(`${lines.join('\n')}\n`);
      const report = (applied: boolean) => out.result({ changes, applied }, () => '');
      if (changes.length === 0 || o.dryRun === true) return report(false);
      if (o.yes !== true && !(await confirm())) {
        report(false);
        throw new CliError(EXIT.notConfirmed, process.stdin.isTTY ? 'not applied' : 'not applied: no terminal to ask on; pass --yes to apply without asking');
      }
      for (const c of changes) {
        await apply(client, manifest, zips, c, ctx().signal);
        out.note(`done: ${describeChange(c)}`);
      }
      report(true);
    });
}

async function confirm(): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('Apply these changes? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

async function readState(client: ApiClient, m: Manifest, prune: boolean): Promise<CurrentState> {
  const [{ functions }, { apis }] = await Promise.all([
    client.call<{ functions: FunctionConfig[] }>('GET', '/v1/functions'),
    client.call<{ apis: Api[] }>('GET', '/v1/apis'),
  ]);
  const fnState = new Map<string, CurrentFunction>();
  for (const f of functions) {
    const schedules = m.functions[f.name] === undefined ? [] : (await client.call<{ schedules: (ScheduleDecl & { id: string })[] }>('GET', `${functionPath(f.name)}/schedules`)).schedules;
    // Every function is known to the plan: routes may name one the file does not declare.
    fnState.set(f.name, { ...f, schedules: schedules.map((s) => ({ id: s.id, expression: s.expression, timezone: s.timezone, ...(s.input === null || s.input === undefined ? {} : { input: s.input }) })) });
  }
  const apiState = new Map<string, CurrentApi>();
  for (const a of apis) {
    if (m.apis[a.name] === undefined && !prune) continue;
    const routes = m.apis[a.name] === undefined ? [] : (await client.call<{ routes: (Route & { apiKeyRequired?: boolean })[] }>('GET', `${apiPath(a.name)}/routes`)).routes;
    apiState.set(a.name, {
      protocol: a.protocol,
      routes: routes.map((r) => ({ id: r.id, routeKey: r.routeKey, function: r.function, payloadFormatVersion: r.payloadFormatVersion === '1.0' ? '1.0' : '2.0', apiKeyRequired: r.apiKeyRequired === true })),
    });
  }
  return { functions: fnState, apis: apiState };
}

async function apply(client: ApiClient, m: Manifest, zips: ReadonlyMap<string, FolderZip>, c: Change, signal: AbortSignal): Promise<void> {
  switch (c.kind) {
    case 'function': {
      if (c.action === 'delete') return void (await client.call('DELETE', functionPath(c.name)));
      const f = m.functions[c.name];
      const zip = zips.get(c.name);
      if (f === undefined || zip === undefined) return;
      await deployFunction(client, c.name, { runtime: f.runtime, handler: f.handler, memoryMb: f.memoryMb, timeoutMs: f.timeoutMs, environment: f.environment }, zip, signal);
      return;
    }
    case 'schedule':
      if (c.action === 'delete') return void (await client.call('DELETE', `${functionPath(c.function)}/schedules/${encodeURIComponent(c.id)}`));
      return void (await client.call('POST', `${functionPath(c.function)}/schedules`, { json: c.schedule }));
    case 'api':
      if (c.action === 'delete') return void (await client.call('DELETE', apiPath(c.name)));
      return void (await client.call('POST', '/v1/apis', { json: { name: c.name, protocol: c.protocol } }));
    case 'route':
      if (c.action === 'delete') return void (await client.call('DELETE', `${apiPath(c.api)}/routes/${encodeURIComponent(c.id)}`));
      return void (await client.call('POST', `${apiPath(c.api)}/routes`, {
        json: { routeKey: c.route.routeKey, function: c.route.function, payloadFormatVersion: c.route.payloadFormatVersion, ...(c.route.apiKeyRequired ? { apiKeyRequired: true } : {}) },
      }));
  }
}
