import t from 'tap';
import { Decimal } from '../../../../../control-plane/metering/pricing/decimal.js';

t.test('parses and prints decimals exactly', async (t) => {
  t.equal(Decimal.parse('0.0000166667').toString(), '0.0000166667');
  t.equal(Decimal.parse('0.20').toString(), '0.2');
  t.equal(Decimal.parse('0.20').toFixed(6), '0.200000');
  t.equal(Decimal.parse('12').toString(), '12');
  t.equal(Decimal.parse('007.500').toString(), '7.5');
  t.equal(Decimal.ZERO.toFixed(6), '0.000000');
});

t.test('refuses what is not a plain non-negative decimal', async (t) => {
  for (const bad of ['', '-1', '1e-7', '.5', '5.', '1,5', ' 1', 'NaN', '0x10']) {
    t.notOk(Decimal.isValid(bad), bad);
    t.throws(() => Decimal.parse(bad), RangeError, bad);
  }
});

t.test('adds and multiplies without floating-point drift', async (t) => {
  // 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
  t.equal(Decimal.parse('0.1').add(Decimal.parse('0.2')).toString(), '0.3');
  let sum = Decimal.ZERO;
  for (let i = 0; i < 1000; i++) sum = sum.add(Decimal.parse('0.0000166667'));
  t.equal(sum.toString(), '0.0166667');
  t.equal(Decimal.parse('0.03025').mul(Decimal.parse('0.0000166667')).toString(), '0.000000504167675');
  t.equal(Decimal.of(3n).shift(6).toString(), '0.000003');
});

t.test('rounds half-up at the requested scale', async (t) => {
  t.equal(Decimal.parse('0.0000005').round(6).toFixed(6), '0.000001', 'a tie rounds up');
  t.equal(Decimal.parse('0.00000049999').round(6).toFixed(6), '0.000000');
  t.equal(Decimal.parse('0.0000015').round(6).toFixed(6), '0.000002');
  t.equal(Decimal.parse('0.0000025').round(6).toFixed(6), '0.000003', 'not banker\'s rounding');
  t.equal(Decimal.parse('1.9999995').round(6).toFixed(6), '2.000000', 'carries into the integer part');
  t.equal(Decimal.parse('1.5').round(6).toFixed(6), '1.500000', 'fewer digits are padded');
  t.throws(() => Decimal.parse('1.2345678').toFixed(6), RangeError, 'toFixed never drops digits silently');
});

t.test('compares by value, whatever the scale', async (t) => {
  t.ok(Decimal.parse('1.50').equals(Decimal.parse('1.5')));
  t.notOk(Decimal.parse('1.51').equals(Decimal.parse('1.5')));
});
