/** @sluice/engine-conn-shell — bash scripts in their own process group, directory and environment. */
export { createShellConnector, type ShellConnectorOptions } from './shell-connector.ts';
