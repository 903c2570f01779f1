/** `gantry usage [--month YYYY-MM] [--by day]`: a month's invoice, or its usage per day. */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { usageError } from '../exit-codes.js';
import { table } from '../output.js';

interface Invoice {
  readonly month: string;
  readonly currency: string;
  readonly lines: { function: string; requests: number; gbSeconds: string; requestCost: string; computeCost: string; total: string }[];
  readonly total: string;
}

interface Usage {
  readonly rows: { key: string; requests: number; billedMs: number; gbSeconds: string; cost: string }[];
  readonly currency: string;
}

export function usageCommand(program: Command, ctx: () => Context): void {
  program
    .command('usage')
    .description('requests, GB-seconds and cost of a month, per function (or per day with --by day)')
    .option('--month <YYYY-MM>', 'the month (default: this one, in UTC)')
    .option('--by <group>', 'function (an invoice) or day', 'function')
    .action(async (o: { month?: string; by: string }) => {
      const { out } = ctx();
      const month = o.month ?? new Date().toISOString().slice(0, 7);
      const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
      if (m === null) throw usageError(`--month ${month}: give YYYY-MM`);
      if (o.by !== 'function' && o.by !== 'day') throw usageError(`--by ${o.by}: give function or day`);
      const client = await ctx().client();
      if (o.by === 'function') {
        const inv = await client.call<Invoice>('GET', '/v1/usage/invoice', { query: { month } });
        out.result(inv, () =>
          `${table(
            ['FUNCTION', 'REQUESTS', 'GB-S', 'REQUEST COST', 'COMPUTE COST', 'TOTAL'],
            inv.lines.map((l) => [l.function, l.requests, l.gbSeconds, l.requestCost, l.computeCost, l.total]),
          )}\ntotal ${inv.total} ${inv.currency} (${inv.month})`,
        );
        return;
      }
      const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
      const to = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1));
      const u = await client.call<Usage>('GET', '/v1/usage', { query: { from: from.toISOString(), to: to.toISOString(), groupBy: 'day' } });
      out.result(u, () => table(['DAY', 'REQUESTS', 'BILLED MS', 'GB-S', `COST (${u.currency})`], u.rows.map((r) => [r.key, r.requests, r.billedMs, r.gbSeconds, r.cost])));
    });
}
