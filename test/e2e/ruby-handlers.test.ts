// ruby3.3 beyond the conformance suite, through the control plane: both of Lambda's handler
// forms with namespaces and paths, what AWS's Ruby runtime reports for a missing method or class
// (at invoke, after which the process ends), for a function's own exception classes and for
// init failures, and gems vendored in the zip found on Lambda's GEM_PATH.
import t from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { makeZip, type ZipInput } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_STEM_CELLS_PER_RUNTIME: '0' } });

const deploy = (t: Parameters<typeof deployFunction>[0], name: string, handler: string, files: ZipInput[]) =>
  deployFunction(t, stack, name, makeZip(files), { runtime: 'ruby3.3', handler, timeoutMs: 30_000 });

const invoke = async (name: string, event: unknown = {}) => {
  const res = await stack.admin('POST', `/v1/functions/${name}/invoke`, event);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, text, json };
};

const APP = `
def handler(event:, context:)
  { handled: event['n'] }
end
`;

await t.test('file.Module::Class.method in a directory, and a top-level method', async (t) => {
  await deploy(t, 'nested', 'src/billing.Billing::Invoices.create', [
    {
      name: 'src/billing.rb',
      content: `module Billing\n  class Invoices\n    def self.create(event:, context:)\n      { invoice: event['id'], by: name, request: context.aws_request_id }\n    end\n  end\nend\n`,
    },
  ]);
  const nested = await invoke('nested', { id: 7 });
  t.equal(nested.res.headers.get('x-gantry-function-error'), null, nested.text);
  t.same(nested.json, { invoice: 7, by: 'Billing::Invoices', request: nested.res.headers.get('x-gantry-invocation-id') });

  await deploy(t, 'top', 'app.handler', [{ name: 'app.rb', content: APP }]);
  const top = await invoke('top', { n: 3 });
  t.same(top.json, { handled: 3 }, top.text);
});

await t.test('a missing method is Function<NoMethodError> at invoke, and the process ends after it', async (t) => {
  await deploy(t, 'no-method', 'app.nope', [{ name: 'app.rb', content: APP }]);
  for (const attempt of [1, 2]) {
    const r = await invoke('no-method');
    t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled', `attempt ${attempt}`);
    t.equal(r.json?.errorType, 'Function<NoMethodError>', `attempt ${attempt}: ${r.text}`);
    t.match(r.json?.errorMessage, /undefined method [`']nope'/);
    t.equal(r.res.headers.get('x-gantry-cold-start'), 'true', `attempt ${attempt}: a fresh environment each time`);
  }
});

await t.test('a missing class is Function<NameError> at invoke', async (t) => {
  await deploy(t, 'no-class', 'app.Nope::Thing.call', [{ name: 'app.rb', content: APP }]);
  const r = await invoke('no-class');
  t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(r.json?.errorType, 'Function<NameError>', r.text);
  t.match(r.json?.errorMessage, /uninitialized constant Nope/);
});

await t.test("a function's own exception class is the errorType, with the function's frames only, and the process goes on", async (t) => {
  const source = `module Shop\n  class PaymentDeclined < StandardError; end\nend\n\ndef handler(event:, context:)\n  raise Shop::PaymentDeclined, 'card declined' if event['fail']\n  { ok: true }\nend\n`;
  await deploy(t, 'own-error', 'app.handler', [{ name: 'app.rb', content: source }]);
  const r = await invoke('own-error', { fail: true });
  t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(r.json, { errorType: 'Function<Shop::PaymentDeclined>', errorMessage: 'card declined' });
  t.match(r.json?.stackTrace?.[0], /^\/var\/task\/app\.rb:6:in /);
  t.ok((r.json?.stackTrace as string[]).every((f) => !f.includes('/var/runtime/')), `no runtime frames: ${JSON.stringify(r.json?.stackTrace)}`);
  const id = r.res.headers.get('x-gantry-invocation-id') as string;
  const logged = await eventually(async () => {
    const res = await stack.admin('GET', `/v1/functions/own-error/logs?invocationId=${id}`);
    const { lines } = (await res.json()) as { lines: { message: string }[] };
    return lines.some((l) => l.message === 'Error raised from handler method') && lines.some((l) => l.message.includes('"errorType": "Function<Shop::PaymentDeclined>"'));
  }, 5_000);
  t.ok(logged, 'the error is logged as the runtime logs it');
  const next = await invoke('own-error', {});
  t.same(next.json, { ok: true });
  t.equal(next.res.headers.get('x-gantry-cold-start'), 'false', 'the same process served the next call');
});

await t.test('init failures are Init<Class>: a syntax error, an exception while the file loads', async (t) => {
  await deploy(t, 'syntax', 'app.handler', [{ name: 'app.rb', content: 'def handler(event:, context:)\n  {\nend\n' }]);
  const syntax = await invoke('syntax');
  t.equal(syntax.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(syntax.json?.errorType, 'Init<SyntaxError>', syntax.text);

  await deploy(t, 'raises', 'app.handler', [{ name: 'app.rb', content: "raise ArgumentError, 'missing setting'\n" }]);
  const raises = await invoke('raises');
  t.match(raises.json, { errorType: 'Init<ArgumentError>', errorMessage: 'missing setting' }, raises.text);
});

await t.test('gems vendored in the zip (bundle config set path vendor/bundle) are found on GEM_PATH', async (t) => {
  const gem = 'vendor/bundle/ruby/3.3.0';
  await deploy(t, 'vendored', 'app.handler', [
    {
      name: `${gem}/specifications/greeter-1.2.0.gemspec`,
      content: `Gem::Specification.new do |s|\n  s.name = 'greeter'\n  s.version = '1.2.0'\n  s.summary = 'Greets'\n  s.authors = ['Gantry']\n  s.files = ['lib/greeter.rb']\n  s.require_paths = ['lib']\nend\n`,
    },
    { name: `${gem}/gems/greeter-1.2.0/lib/greeter.rb`, content: "module Greeter\n  def self.greet(name) = \"hello #{name}\"\nend\n" },
    { name: 'app.rb', content: "require 'greeter'\n\ndef handler(event:, context:)\n  { greeting: Greeter.greet(event['name']), version: Gem.loaded_specs['greeter'].version.to_s }\nend\n" },
  ]);
  const r = await invoke('vendored', { name: 'ruby' });
  t.equal(r.res.headers.get('x-gantry-function-error'), null, r.text);
  t.same(r.json, { greeting: 'hello ruby', version: '1.2.0' });
});
