// json-order.ts — deep key sorting in Python's order (by code point), as the reference applies to
// tool declarations before rendering them with `tojson`.

/** Compares strings by Unicode code point, like Python's str ordering (JS sorts by UTF-16 unit). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** A copy of v with every object's keys in sorted order. Note: JS objects always enumerate
 *  integer-like keys ("0", "12") first in numeric order, whatever order they were inserted in. */
export function deepSortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepSortKeys) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(compareCodePoints)) out[k] = deepSortKeys((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v;
}
