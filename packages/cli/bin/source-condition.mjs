// A module resolve hook that adds the `sluice-source` export condition, so workspace packages
// resolve to their TypeScript sources (docs/adr/0004-run-typescript-from-source.md) without
// `node --conditions=sluice-source` on the command line.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('sluice-source') ? context.conditions : [...context.conditions, 'sluice-source'];
  return nextResolve(specifier, { ...context, conditions });
}
