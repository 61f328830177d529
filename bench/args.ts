/** The `--name=value` options of a bench command (a bare `--flag` reads as "true"). */
export const args = new Map(
  process.argv.slice(2).map((a) => {
    // Split at the first '=' only: a value may hold more (--scale-node-options=--max-semi-space-size=32).
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.length ? v.join('=') : 'true'] as const;
  }),
);

/** A positive whole-number option, or its default. */
export function num(name: string, def: number): number {
  const v = Number(args.get(name) ?? def);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}
