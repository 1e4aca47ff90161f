// The workflows the worker hosts. Everything here runs in Temporal's deterministic sandbox.
export { sessionWorkflow } from './session.js';
export { cronRunWorkflow } from './cron-run.js';
