/** @sluice/datasource-service — data sources registered once and used everywhere. */
export {
  DataSourceService,
  type DataSourceView,
  type KeyRotation,
  type KeyStatus,
  type KeyUsage,
  type Permission,
  type VersionView,
} from './datasource-service.ts';
export { DATASOURCE_MIGRATION, DataSourceStore } from './datasource-store.ts';
export { type Envelope, openSecrets, rewrapEnvelope, sealSecrets } from './envelope.ts';
export { formatKeyRotation, formatKeyStatus } from './key-report.ts';
export { generateKeyEntry, type Keyring, loadKeyring, parseKeyring } from './master-keys.ts';
export { dataSourceRoutes } from './routes.ts';
export { DATASOURCE_TYPES, type DataSourceTypeDef, dataSourceType, keyDefinitions } from './types-registry.ts';
