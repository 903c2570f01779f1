/**
 * Exact non-negative decimals for money and GB-seconds: a BigInt count of units at a decimal
 * scale (value = units / 10^scale). Billing needs only addition, multiplication, exact division
 * by powers of ten and by 1024000 (= 2^13 · 5^3, so every quotient terminates) and half-up
 * rounding, so no floating point is ever involved and no general division is needed.
 */

const DECIMAL = /^(\d{1,30})(?:\.(\d{1,30}))?$/;

export class Decimal {
  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  static readonly ZERO = new Decimal(0n, 0);

  /** Parses a plain decimal string (`12`, `0.20`, `0.0000166667`); throws on anything else. */
  static parse(text: string): Decimal {
    const m = DECIMAL.exec(text);
    if (!m) throw new RangeError(`not a non-negative decimal: ${JSON.stringify(text)}`);
    const frac = m[2] ?? '';
    return new Decimal(BigInt((m[1] as string) + frac), frac.length);
  }

  static isValid(text: string): boolean {
    return DECIMAL.test(text);
  }

  static of(integer: bigint | number): Decimal {
    const units = BigInt(integer);
    if (units < 0n) throw new RangeError('negative decimal');
    return new Decimal(units, 0);
  }

  /** `units / 10^scale`, exactly. */
  static fromUnits(units: bigint, scale: number): Decimal {
    if (units < 0n) throw new RangeError('negative decimal');
    return new Decimal(units, scale);
  }

  add(o: Decimal): Decimal {
    const scale = Math.max(this.scale, o.scale);
    return new Decimal(this.at(scale) + o.at(scale), scale);
  }

  mul(o: Decimal): Decimal {
    return new Decimal(this.units * o.units, this.scale + o.scale);
  }

  /** Divides by 10^k, exactly (only the scale moves). */
  shift(k: number): Decimal {
    return new Decimal(this.units, this.scale + k);
  }

  /** Rounds half-up (ties away from zero; every value here is non-negative) to `scale` places. */
  round(scale: number): Decimal {
    if (this.scale <= scale) return new Decimal(this.at(scale), scale);
    const divisor = 10n ** BigInt(this.scale - scale);
    const q = this.units / divisor;
    const r = this.units % divisor;
    return new Decimal(r * 2n >= divisor ? q + 1n : q, scale);
  }

  equals(o: Decimal): boolean {
    const scale = Math.max(this.scale, o.scale);
    return this.at(scale) === o.at(scale);
  }

  /** Exactly `places` decimals (pads with zeros; call `round` first to drop digits). */
  toFixed(places: number): string {
    if (places < this.scale) throw new RangeError('toFixed would drop digits; round first');
    return format(this.at(places), places);
  }

  /** The shortest exact form: no trailing fractional zeros (`0.03025`, `12`). */
  toString(): string {
    let units = this.units;
    let scale = this.scale;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale -= 1;
    }
    return format(units, scale);
  }

  private at(scale: number): bigint {
    return this.units * 10n ** BigInt(scale - this.scale);
  }
}

function format(units: bigint, scale: number): string {
  if (scale === 0) return units.toString();
  const digits = units.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
