/** The shared ioredis connection, or null in the embedded dev mode. */
export const REDIS = Symbol('REDIS');
