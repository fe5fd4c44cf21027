/**
 * The Linkis-compatible front door: REST under `/api/rest_j/v1`, the WebSocket at
 * `/ws/api/entrance/connect`, and the mapping of Linkis engine types onto Sluice engines.
 */
export type { LinkisDataSources, LinkisDeps } from './context.ts';
export { DEFAULT_ENGINE_MAP, ENGINE_MAP_SETTING, EngineMap, type EngineMapEntry, loadEngineMap } from './engine-map.ts';
export { HTTP_STATUS_OF, type LinkisMessage, type LinkisStatus } from './envelope.ts';
export { execIdOf, legacyExecIdOf, parseJobRef, shortExecId } from './exec-id.ts';
export { LINKIS_WS_PATH, linkisPlugin } from './linkis-plugin.ts';
export { SESSION_COOKIE, SessionTickets } from './session-ticket.ts';
