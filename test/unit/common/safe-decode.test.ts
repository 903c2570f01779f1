import fc from 'fast-check';
import t from 'tap';
import { decodeComponent, hasControlCharacter, requestTargetProblem } from '../../../common/safe-decode.js';
import { BAD_SEGMENTS } from '../../support/hostile-input.js';

t.test('decodes what encodeURIComponent makes, for any string', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => decodeComponent(encodeURIComponent(s)) === s), { numRuns: 500 });
  t.pass();
});

t.test('never throws, and answers undefined exactly where decodeURIComponent would throw', async (t) => {
  const escapes = fc.array(fc.oneof(fc.constantFrom(...BAD_SEGMENTS), fc.string(), fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16)}`)), { maxLength: 6 }).map((p) => p.join(''));
  fc.assert(
    fc.property(escapes, (s) => {
      let expected: string | undefined;
      try {
        expected = decodeURIComponent(s);
      } catch {
        expected = undefined;
      }
      return decodeComponent(s) === expected;
    }),
    { numRuns: 1_000 },
  );
  for (const bad of ['%E0%A4%A', '%', '%zz', '%C0%AF', '%ED%A0%80', '%FF%FE']) t.equal(decodeComponent(bad), undefined, bad);
});

t.test('tells control characters', async (t) => {
  t.ok(hasControlCharacter('a\u0000b'));
  t.ok(hasControlCharacter('a\u007fb'));
  t.ok(hasControlCharacter('\t'));
  t.notOk(hasControlCharacter('name-with_ünïcode'));
});

t.test('names what is wrong with a request target, and passes good ones', async (t) => {
  t.equal(requestTargetProblem('/v1/functions/hello?limit=5&cursor=abc%3D'), undefined);
  t.equal(requestTargetProblem('/v1/functions/h%C3%A9llo'), undefined);
  t.equal(requestTargetProblem('/v1/functions?'), undefined);
  t.match(requestTargetProblem('/v1/functions/%E0%A4%A'), /path has a malformed percent-escape/);
  t.match(requestTargetProblem('/v1/functions/a%00b'), /path contains a control character/);
  t.match(requestTargetProblem('/v1/usage?from=%zz'), /query string has a malformed/);
  t.match(requestTargetProblem('/v1/functions/f/logs?invocationId=%00'), /query string contains a control/);
  fc.assert(fc.property(fc.string(), (s) => requestTargetProblem(s) === undefined || typeof requestTargetProblem(s) === 'string'), { numRuns: 500 });
});
