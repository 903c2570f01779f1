import t from 'tap';
import { compileRouteSelection, DEFAULT_ROUTE_SELECTION_EXPRESSION, routeSelectionProblem } from '../../../common/route-selection.js';

function select(expression: string, body: string): string | undefined {
  const r = compileRouteSelection(expression);
  if (!r.ok) throw new Error(r.reason);
  return r.selector.select(body);
}

t.test('the default expression reads body.action', async (t) => {
  t.equal(select(DEFAULT_ROUTE_SELECTION_EXPRESSION, '{"action":"chat","text":"hi"}'), 'chat');
  t.equal(select(DEFAULT_ROUTE_SELECTION_EXPRESSION, '{"text":"hi"}'), '', 'a missing path is ""');
  t.equal(select(DEFAULT_ROUTE_SELECTION_EXPRESSION, 'not json'), undefined, 'not JSON: no value ($default)');
  t.equal(select(DEFAULT_ROUTE_SELECTION_EXPRESSION, '[1,2]'), '', 'an array has no action');
  t.equal(select(DEFAULT_ROUTE_SELECTION_EXPRESSION, '"chat"'), '', 'a JSON string has no action');
});

t.test('values are stringified', async (t) => {
  const cases: [string, string][] = [
    ['{"action":7}', '7'],
    ['{"action":true}', 'true'],
    ['{"action":null}', ''],
    ['{"action":{"a":1}}', '{"a":1}'],
    ['{"action":["x"]}', '["x"]'],
  ];
  for (const [body, expected] of cases) t.equal(select('$request.body.action', body), expected, body);
});

t.test('nested paths, brackets and indexes', async (t) => {
  t.equal(select('$request.body.meta.kind', '{"meta":{"kind":"k"}}'), 'k');
  t.equal(select("$request.body['odd key']", '{"odd key":"v"}'), 'v');
  t.equal(select('$request.body["x"].y', '{"x":{"y":"z"}}'), 'z');
  t.equal(select('$request.body.items[1]', '{"items":["a","b"]}'), 'b');
  t.equal(select('$request.body.items[5]', '{"items":["a"]}'), '');
  t.equal(select('$request.body.toString', '{}'), '', 'inherited properties are not values');
  t.equal(select('$request.body', '{"a":1}'), '{"a":1}', 'the whole body');
});

t.test('templates combine several values with literal text', async (t) => {
  const e = '${request.body.service}/${request.body.action}';
  t.equal(select(e, '{"service":"chat","action":"send"}'), 'chat/send');
  t.equal(select(e, '{"action":"send"}'), '/send', 'missing parts are ""');
  t.equal(select('v1-${request.body.a}', '{"a":"x"}'), 'v1-x');
  t.equal(select(e, 'nope'), undefined);
});

t.test('bad expressions are refused with a reason', async (t) => {
  for (const bad of ['action', '$request.header.x', '$request.body.', '$request.body[x]', '${request.body.a', '${request.querystring.a}', '$request.body.a b']) {
    t.type(routeSelectionProblem(bad), 'string', bad);
  }
  for (const good of ['$request.body.action', '${request.body.a}-${request.body.b}', "$request.body['a']"]) t.equal(routeSelectionProblem(good), undefined, good);
});
