import t from 'tap';
import { asJsonText, jsonDepth, MAX_VALUE_DEPTH, parseOrText } from '../../../../control-plane/async/json-text.js';
import { isPermanentError } from '../../../../control-plane/async/permanent-error.js';

const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

t.test('jsonDepth counts brackets outside strings, without recursion', async (t) => {
  t.equal(jsonDepth('1'), 0);
  t.equal(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
  t.equal(jsonDepth('{"a":"[[[[\\"[[["}'), 1, 'brackets and escaped quotes inside strings do not count');
  t.equal(jsonDepth(nested(100_000)), 100_000);
  t.equal(jsonDepth(nested(100_000), 10), 11, 'stops once past the limit');
});

t.test('parseOrText gives values up to the depth limit, deeper JSON as text', async (t) => {
  t.same(parseOrText(nested(MAX_VALUE_DEPTH)), JSON.parse(nested(MAX_VALUE_DEPTH)));
  const deep = nested(100_000);
  t.equal(parseOrText(deep), deep);
  t.doesNotThrow(() => JSON.stringify({ error: parseOrText(deep) }), 'what it returns can always be serialised');
});

t.test('asJsonText splices JSON as it is and wraps anything else as a string', async (t) => {
  const deep = nested(100_000);
  t.equal(asJsonText(deep), deep);
  t.equal(asJsonText('not json'), '"not json"');
  t.equal(asJsonText(''), 'null');
});

t.test('permanent errors are the ones a retry cannot cure', async (t) => {
  let range: unknown;
  try {
    JSON.stringify(JSON.parse(nested(100_000)));
  } catch (e) {
    range = e;
  }
  t.ok(isPermanentError(range), 'a RangeError from serialising');
  t.ok(isPermanentError(Object.assign(new Error('stack depth limit exceeded'), { code: '54001' })), 'Postgres: program limit exceeded');
  t.ok(isPermanentError(Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' })), 'Postgres: data exception');
  t.notOk(isPermanentError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'a database that is away comes back');
  t.notOk(isPermanentError(Object.assign(new Error('terminating connection'), { code: '57P01' })));
  t.notOk(isPermanentError(new Error('anything else')));
});
