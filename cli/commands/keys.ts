/** `gantry keys …`: usage plans and API keys (api.md, Usage plans and keys). */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { usageError } from '../exit-codes.js';
import { record, table } from '../output.js';
import { intOption } from './functions.js';

interface Plan {
  readonly id: string;
  readonly name: string;
  readonly apis: string[];
  readonly throttle: { rateLimit: number; burstLimit: number } | null;
  readonly quota: { limit: number; period: string } | null;
}

interface Key {
  readonly id: string;
  readonly name: string;
  readonly usagePlanId: string;
  readonly createdAt: string;
  readonly value?: string;
}

export function keysCommands(program: Command, ctx: () => Context): void {
  const keys = program.command('keys').description('API keys and the usage plans that throttle and meter them');
  keys
    .command('create')
    .description('create an API key in a usage plan (its value is shown only now)')
    .argument('<name>', 'key name')
    .requiredOption('--plan <id>', 'usage plan id')
    .action(async (name: string, o: { plan: string }) => {
      const { out } = ctx();
      const k = await (await ctx().client()).call<Key>('POST', '/v1/api-keys', { json: { name, usagePlanId: o.plan } });
      out.result(k, () => record([['id', k.id], ['name', k.name], ['plan', k.usagePlanId], ['value', k.value]]));
    });
  keys
    .command('ls')
    .description('list API keys')
    .action(async () => {
      const { out } = ctx();
      const list = await (await ctx().client()).call<{ items: Key[] }>('GET', '/v1/api-keys');
      out.result(list, () => table(['ID', 'NAME', 'PLAN', 'CREATED'], list.items.map((k) => [k.id, k.name, k.usagePlanId, k.createdAt])));
    });
  keys
    .command('rm')
    .description('delete an API key')
    .argument('<id>', 'key id')
    .action(async (id: string) => {
      const { out } = ctx();
      await (await ctx().client()).call('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
      out.result({ deleted: id }, () => `deleted key ${id}`);
    });
  keys
    .command('usage')
    .description('requests per day of an API key, and what remains of its quota')
    .argument('<id>', 'key id')
    .action(async (id: string) => {
      const { out } = ctx();
      const u = await (await ctx().client()).call<{ items: { date: string; used: number }[]; remaining: number | null }>('GET', `/v1/api-keys/${encodeURIComponent(id)}/usage`);
      out.result(u, () => `${table(['DATE', 'USED'], u.items.map((i) => [i.date, i.used]))}\nremaining: ${u.remaining ?? 'no quota'}`);
    });

  const plan = keys.command('plan').description('usage plans');
  plan
    .command('create')
    .description('create a usage plan over some APIs')
    .argument('<name>', 'plan name')
    .requiredOption('--api <name...>', 'the APIs the plan covers')
    .option('--rate <n>', 'requests per second', intOption('--rate'))
    .option('--burst <n>', 'burst size', intOption('--burst'))
    .option('--quota <n>', 'requests per period', intOption('--quota'))
    .option('--period <period>', 'DAY, WEEK or MONTH', 'DAY')
    .action(async (name: string, o: { api: string[]; rate?: number; burst?: number; quota?: number; period: string }) => {
      const { out } = ctx();
      if ((o.rate === undefined) !== (o.burst === undefined)) throw usageError('give --rate and --burst together');
      if (!['DAY', 'WEEK', 'MONTH'].includes(o.period)) throw usageError(`--period ${o.period}: give DAY, WEEK or MONTH`);
      const body = {
        name,
        apis: o.api,
        ...(o.rate !== undefined ? { throttle: { rateLimit: o.rate, burstLimit: o.burst } } : {}),
        ...(o.quota !== undefined ? { quota: { limit: o.quota, period: o.period } } : {}),
      };
      const p = await (await ctx().client()).call<Plan>('POST', '/v1/usage-plans', { json: body });
      out.result(p, () => planRecord(p));
    });
  plan
    .command('ls')
    .description('list usage plans')
    .action(async () => {
      const { out } = ctx();
      const list = await (await ctx().client()).call<{ items: Plan[] }>('GET', '/v1/usage-plans');
      out.result(list, () =>
        table(['ID', 'NAME', 'APIS', 'THROTTLE', 'QUOTA'], list.items.map((p) => [p.id, p.name, p.apis.join(','), throttleText(p), quotaText(p)])),
      );
    });
  plan
    .command('rm')
    .description('delete a usage plan')
    .argument('<id>', 'plan id')
    .action(async (id: string) => {
      const { out } = ctx();
      await (await ctx().client()).call('DELETE', `/v1/usage-plans/${encodeURIComponent(id)}`);
      out.result({ deleted: id }, () => `deleted plan ${id}`);
    });
}

function planRecord(p: Plan): string {
  return record([['id', p.id], ['name', p.name], ['apis', p.apis.join(', ')], ['throttle', throttleText(p)], ['quota', quotaText(p)]]);
}

function throttleText(p: Plan): string {
  return p.throttle === null ? '-' : `${p.throttle.rateLimit}/s burst ${p.throttle.burstLimit}`;
}

function quotaText(p: Plan): string {
  return p.quota === null ? '-' : `${p.quota.limit}/${p.quota.period}`;
}
