/** Route specs live in @sluice/core so every package can declare routes; re-exported for the gateway's files. */
export { type AnyRouteSpec, type ResponseSpec, type RouteContext, type RouteSpec, route } from '@sluice/core';
