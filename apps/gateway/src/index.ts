/** @sluice/gateway — authentication and the protocol adapters. */
export { allRoutes, buildGateway, type GatewayDeps } from './app.ts';
export { authenticate } from './auth/authenticate.ts';
export { type TokenInfo, TokenStore } from './auth/token-store.ts';
export { buildOpenApi } from './rest/openapi.ts';
