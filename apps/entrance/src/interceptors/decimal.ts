/**
 * Exact decimal arithmetic for numeric job variables, as Linkis does with java.math.BigDecimal:
 * `+ - *` are exact, `/` is exact when the quotient terminates and otherwise rounds to 34
 * significant digits, half to even (MathContext.DECIMAL128). Floating point is never used, so
 * `${x+0.2}` with x=0.1 is 0.3 and 9223372036854775807+1 does not overflow.
 */

/** A decimal number `coef × 10^-scale`, scale ≥ 0. */
export interface Decimal {
  readonly coef: bigint;
  readonly scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const PRECISION = 34;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function digits(n: bigint): number {
  return n === 0n ? 1 : abs(n).toString().length;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Parses `12`, `-3.50`, `+.5`, `7.`; undefined for anything else (no exponents, no spaces). */
export function parseDecimal(s: string): Decimal | undefined {
  const m = DECIMAL_RE.exec(s);
  if (!m) return undefined;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int === '' && frac === '') return undefined;
  const coef = BigInt(`${int}${frac}` || '0');
  return { coef: m[1] === '-' ? -coef : coef, scale: frac.length };
}

/** Plain notation; a whole number is written without a fraction (3.0 → 3), others keep their scale (2.50). */
export function formatDecimal(d: Decimal): string {
  if (d.scale === 0) return d.coef.toString();
  const unit = pow10(d.scale);
  if (d.coef % unit === 0n) return (d.coef / unit).toString();
  const s = abs(d.coef)
    .toString()
    .padStart(d.scale + 1, '0');
  return `${d.coef < 0n ? '-' : ''}${s.slice(0, s.length - d.scale)}.${s.slice(s.length - d.scale)}`;
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.coef * pow10(scale - a.scale), b.coef * pow10(scale - b.scale), scale];
}

/** a + b, exact. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { coef: x + y, scale };
}

/** a − b, exact. */
export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { coef: x - y, scale };
}

/** a × b, exact. */
export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { coef: a.coef * b.coef, scale: a.scale + b.scale };
}

/** a ÷ b: exact when it terminates, else 34 significant digits rounded half to even. Throws RangeError for b = 0. */
export function divideDecimal(a: Decimal, b: Decimal): Decimal {
  if (b.coef === 0n) throw new RangeError('division by zero');
  let n = a.coef * pow10(b.scale);
  let d = b.coef * pow10(a.scale);
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const preferred = Math.max(0, a.scale - b.scale);
  let rest = d / gcd(n, d);
  let twos = 0;
  let fives = 0;
  while (rest % 2n === 0n) {
    rest /= 2n;
    twos++;
  }
  while (rest % 5n === 0n) {
    rest /= 5n;
    fives++;
  }
  if (rest === 1n) {
    const k = Math.max(twos, fives, preferred);
    return { coef: (n * pow10(k)) / d, scale: k };
  }
  // Non-terminating: choose k so that |n|·10^k / d has PRECISION digits, then round half to even.
  const negative = n < 0n;
  const an = abs(n);
  let k = PRECISION - (digits(an) - digits(d));
  const quotient = (scale: number): bigint => (scale >= 0 ? (an * pow10(scale)) / d : an / (d * pow10(-scale)));
  while (digits(quotient(k)) > PRECISION) k--;
  while (digits(quotient(k)) < PRECISION) k++;
  if (k < 0) k = 0;
  let q = quotient(k);
  const remainder = an * pow10(k) - q * d;
  // An exact tie is impossible here (the quotient does not terminate), so half-up and half-even agree.
  if (2n * remainder > d) q += 1n;
  return { coef: negative ? -q : q, scale: k };
}
