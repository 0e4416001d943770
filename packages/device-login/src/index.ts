export { DeviceLogin, type AuthorizedRequest, type DeviceLoginOptions, type LoginOptions, type LogoutOutcome, type LogoutResult } from './device-login';
export {
  DeviceFlowClient,
  DEFAULT_INTERVAL_SECONDS,
  SLOW_DOWN_STEP_SECONDS,
  type DeviceAuthorization,
  type DeviceFlowClientOptions,
  type PollEvent,
  type PollOptions,
  type TokenSet,
} from './device-flow.client';
export { DEVICE_CODE_GRANT, discover, discoveryUrls, InvalidIssuer, normalizeIssuer, type AuthorizationServerMetadata } from './discovery';
export { DevicegateApi, type AuditFilters, type AuditVerifyReport, type Authorization, type ClientView, type Me, type NewClient } from './devicegate-api';
export * from './errors';
export { HttpClient, type FetchLike, type HttpOptions } from './http';
export { systemClock, type MonotonicClock } from './monotonic-clock';
export { encodeQr, type ErrorCorrectionLevel, type QrCode } from './qr/qr-code';
export { renderQr } from './qr/qr-terminal';
export { DEFAULT_PROFILE, MemoryCredentialStore, type Credential, type CredentialKey, type CredentialStore, type CredentialSubject } from './store/credential';
export { FileCredentialStore } from './store/file-credential.store';
export { LibsecretCredentialStore, MacosKeychainCredentialStore, type CommandRunner } from './store/keychain-credential.store';
export { configDirectory } from './store/private-files';
export { chooseCredentialStore, createCredentialStore, findExecutable, type StoreChoice } from './store/select-credential-store';
