/** `gantry login URL [--token T]`: checks the server answers the token, then stores both. */
import type { Command } from 'commander';
import { ApiClient } from '../api-client.js';
import { normaliseUrl, writeStoredConfig } from '../config-file.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Context } from '../context.js';

export function loginCommand(program: Command, ctx: () => Context): void {
  program
    .command('login')
    .description('store the server URL and token in the configuration file (mode 0600)')
    .argument('<url>', 'the control plane, e.g. http://127.0.0.1:9000')
    .option('--token <token>', 'the admin token (default: $GANTRY_TOKEN)')
    .action(async (url: string, o: { token?: string }) => {
      const { out } = ctx();
      const token = o.token ?? process.env.GANTRY_TOKEN;
      if (token === undefined || token === '') throw new CliError(EXIT.usage, 'give the token with --token or GANTRY_TOKEN');
      const base = normaliseUrl(url);
      // A wrong URL or token is found now, not at the first deploy.
      await new ApiClient({ url: base, token }).call('GET', '/v1/functions');
      const file = await writeStoredConfig({ url: base, token });
      out.result({ url: base, configFile: file }, () => `logged in to ${base} (saved in ${file})`);
    });
}
