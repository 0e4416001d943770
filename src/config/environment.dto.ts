import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { IsBooleanText, IsDuration, IsRateLimit } from './config-validation';

/** Every environment variable devicegate reads. Defaults live in `loadConfig()` and the README. */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['production', 'development', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @Matches(/^\d{1,5}$/, { message: 'PORT must be a port number' })
  PORT?: string;

  @IsOptional()
  @Matches(/^\d{1,5}$/, { message: 'METRICS_PORT must be a port number' })
  METRICS_PORT?: string;

  @IsOptional()
  @IsString()
  METRICS_HOST?: string;

  @IsOptional()
  @IsBooleanText()
  DOCS_ENABLED?: string;

  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: 'PUBLIC_URL must be an http(s) URL without query or fragment' })
  PUBLIC_URL?: string;

  @IsOptional()
  @IsIn(['express', 'fastify'], { message: 'HTTP_ADAPTER must be express or fastify' })
  HTTP_ADAPTER?: string;

  @IsOptional()
  @Matches(/^\s*(true|false|\d+|[0-9a-f.:/, ]+)\s*$/i, {
    message: 'TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
  })
  TRUST_PROXY?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'DATABASE_POOL_SIZE must be a whole number' })
  DATABASE_POOL_SIZE?: string;

  @IsOptional()
  @Matches(/^(rediss?|redis-sentinel|redis-cluster):\/\//, {
    message: 'REDIS_URL must be a redis://, rediss://, redis-sentinel:// or redis-cluster:// URL',
  })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(/^[\w:.-]{0,64}$/, { message: 'REDIS_KEY_PREFIX may hold letters, digits and : . _ - only' })
  REDIS_KEY_PREFIX?: string;

  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @IsOptional()
  @IsBooleanText()
  MIGRATE_ON_BOOT?: string;

  @IsOptional()
  @IsString()
  SECRET_KEYS?: string;

  @IsOptional()
  @IsString()
  DEVICEGATE_CONFIG?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @IsDuration()
  DEVICE_CODE_TTL?: string;

  @IsOptional()
  @IsDuration()
  POLL_INTERVAL?: string;

  @IsOptional()
  @IsDuration()
  ACCESS_TOKEN_TTL?: string;

  @IsOptional()
  @IsDuration()
  APPROVAL_GRANT_TTL?: string;

  @IsOptional()
  @IsDuration()
  SSO_STATE_TTL?: string;

  @IsOptional()
  @IsDuration()
  CONSOLE_SESSION_IDLE_TTL?: string;

  @IsOptional()
  @IsDuration()
  CONSOLE_SESSION_ABSOLUTE_TTL?: string;

  @IsOptional()
  @IsDuration()
  REFRESH_TOKEN_IDLE_TTL?: string;

  @IsOptional()
  @IsDuration()
  REFRESH_TOKEN_ABSOLUTE_TTL?: string;

  @IsOptional()
  @IsDuration()
  TOKEN_CACHE_TTL?: string;

  @IsOptional()
  @IsDuration()
  TOKEN_SHARED_CACHE_TTL?: string;

  @IsOptional()
  @IsDuration()
  LAST_USED_FLUSH_INTERVAL?: string;

  @IsOptional()
  @IsDuration()
  AUDIT_SEAL_INTERVAL?: string;

  @IsOptional()
  @IsDuration()
  AUDIT_SEAL_LAG?: string;

  @IsOptional()
  @IsDuration()
  AUDIT_OUTBOX_DRAIN_INTERVAL?: string;

  @IsOptional()
  @Matches(/^\s*0*[1-9]\d*\s*[smhd]?\s*$/i, { message: 'AUDIT_OUTBOX_MAX_LAG must be a duration of at least 1s, such as 30s' })
  AUDIT_OUTBOX_MAX_LAG?: string;

  @IsOptional()
  @Matches(/^(keep|\d+[smhd]?)$/i, { message: 'AUDIT_RETENTION must be keep or a duration such as 400d' })
  AUDIT_RETENTION?: string;

  @IsOptional()
  @IsDuration()
  TOKEN_RETENTION?: string;

  @IsOptional()
  @Matches(/^(off|(\S+\s+){4,5}\S+)$/, { message: 'RETENTION_SCHEDULE must be off or a cron expression such as "17 * * * *"' })
  RETENTION_SCHEDULE?: string;

  @IsOptional()
  @Matches(/^\d{1,6}$/, { message: 'RETENTION_BATCH_SIZE must be a whole number' })
  RETENTION_BATCH_SIZE?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_DEVICE_CODE_PER_IP?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_DEVICE_CODE_PER_CLIENT?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_LOOKUP_PER_IP?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_LOGIN_PER_IP?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_APPROVAL_PER_IP?: string;

  @IsOptional()
  @IsRateLimit()
  RATE_LIMIT_FAILED_USER_CODES?: string;
}
