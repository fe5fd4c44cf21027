/** @sluice/standalone — assembles Sluice processes from their roles. */
export { ALL_ROLES, EXTRA_MIGRATIONS, type Role, type Stack, startStack } from './stack.ts';
