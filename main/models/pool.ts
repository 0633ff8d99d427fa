// pool.ts — run async work over a list with at most n at once; the first failure stops new work
// and is thrown after the running ones settle (so no write is left half-done behind the error).

export async function pool<T>(items: T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length && !errors.length) {
      const item = items[next++];
      try { await work(item); } catch (e) { errors.push(e); }
    }
  }));
  if (errors.length) throw errors[0];
}
