/** `gantry api create|ls|rm` and `gantry api route add|ls|rm` (api.md, APIs and routes). */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { usageError } from '../exit-codes.js';
import { record, table } from '../output.js';

export interface Api {
  readonly id: string;
  readonly name: string;
  readonly protocol: string;
  readonly endpoint: string;
}

export interface Route {
  readonly id: string;
  readonly routeKey: string;
  readonly function: string;
  readonly payloadFormatVersion?: string;
}

export function apiPath(name: string): string {
  return `/v1/apis/${encodeURIComponent(name)}`;
}

export function apiCommands(program: Command, ctx: () => Context): void {
  const api = program.command('api').description('APIs the gateway serves, and their routes');
  api
    .command('create')
    .description('create an API, served by the gateway under /NAME')
    .argument('<name>', 'API name: lowercase letters, digits and -')
    .option('--protocol <protocol>', 'http or websocket', 'http')
    .action(async (name: string, o: { protocol: string }) => {
      const { out } = ctx();
      const created = await (await ctx().client()).call<Api>('POST', '/v1/apis', { json: { name, protocol: o.protocol } });
      out.result(created, () => record([['id', created.id], ['name', created.name], ['protocol', created.protocol], ['endpoint', created.endpoint]]));
    });
  api
    .command('ls')
    .description('list APIs')
    .action(async () => {
      const { out } = ctx();
      const list = await (await ctx().client()).call<{ apis: Api[] }>('GET', '/v1/apis');
      out.result(list, () => table(['NAME', 'PROTOCOL', 'ENDPOINT', 'ID'], list.apis.map((a) => [a.name, a.protocol, a.endpoint, a.id])));
    });
  api
    .command('rm')
    .description('delete an API and its routes')
    .argument('<name>', 'API name')
    .action(async (name: string) => {
      const { out } = ctx();
      await (await ctx().client()).call('DELETE', apiPath(name));
      out.result({ deleted: name }, () => `deleted API ${name}`);
    });

  const route = api.command('route').description('routes of an API');
  route
    .command('add')
    .description('route requests matching a route key to a function')
    .argument('<api>', 'API name')
    .argument('<routeKey>', 'e.g. "GET /items/{id}", "ANY /{proxy+}", "$default"')
    .argument('<function>', 'function name')
    .option('--payload-format <version>', '2.0 or 1.0', '2.0')
    .option('--api-key-required', 'callers must send an x-api-key of a usage plan')
    .action(async (apiName: string, routeKey: string, fn: string, o: { payloadFormat: string; apiKeyRequired?: boolean }) => {
      const { out } = ctx();
      if (o.payloadFormat !== '2.0' && o.payloadFormat !== '1.0') throw usageError(`--payload-format ${o.payloadFormat}: give 2.0 or 1.0`);
      const body = { routeKey, function: fn, payloadFormatVersion: o.payloadFormat, ...(o.apiKeyRequired === true ? { apiKeyRequired: true } : {}) };
      const created = await (await ctx().client()).call<Route>('POST', `${apiPath(apiName)}/routes`, { json: body });
      out.result(created, () => record([['id', created.id], ['routeKey', created.routeKey], ['function', created.function], ['payloadFormat', created.payloadFormatVersion]]));
    });
  route
    .command('ls')
    .description('list the routes of an API')
    .argument('<api>', 'API name')
    .action(async (apiName: string) => {
      const { out } = ctx();
      const list = await (await ctx().client()).call<{ routes: Route[] }>('GET', `${apiPath(apiName)}/routes`);
      out.result(list, () => table(['ROUTE KEY', 'FUNCTION', 'FORMAT', 'ID'], list.routes.map((r) => [r.routeKey, r.function, r.payloadFormatVersion, r.id])));
    });
  route
    .command('rm')
    .description('delete a route')
    .argument('<api>', 'API name')
    .argument('<routeId>', 'route id (from route ls)')
    .action(async (apiName: string, id: string) => {
      const { out } = ctx();
      await (await ctx().client()).call('DELETE', `${apiPath(apiName)}/routes/${encodeURIComponent(id)}`);
      out.result({ deleted: id }, () => `deleted route ${id}`);
    });
}
