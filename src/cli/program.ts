/** How the operator runs the CLI, as shown in usage lines, examples and hints. */
export const PROG = 'npm run cli --';
