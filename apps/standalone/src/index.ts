/** @sluice/standalone — assembles Sluice processes from their roles. */
export { ALL_ROLES, type Role, type Stack, startStack } from './stack.ts';
