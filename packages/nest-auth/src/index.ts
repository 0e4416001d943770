export { DevicegateAuthModule } from './devicegate-auth.module';
export { DevicegateAuthGuard } from './devicegate-auth.guard';
export { DevicegateToken, Public, RequireOrganization, RequireScopes } from './decorators';
export { DevicegateTokenVerifier } from './token-verifier';
export { DevicegateAuthException } from './errors';
export { IntrospectionError, type IntrospectionFailureReason } from './introspection-client';
export { DEVICEGATE_AUTH_OPTIONS, type DevicegateAuthAsyncOptions, type DevicegateAuthOptions } from './options';
export type { DevicegateTokenInfo } from './token-info';
