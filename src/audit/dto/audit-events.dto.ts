import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { AUDIT_EVENT_TYPES } from '../audit-event';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../audit-query.service';

/** The filters of the query and the export; the service reads them and refuses any other parameter. */
export class AuditFilterQueryDto {
  @ApiPropertyOptional({ type: String, description: `One event type, or several separated by commas: ${Object.keys(AUDIT_EVENT_TYPES).join(', ')}` })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ type: String, description: "The actor's subject id (UUID) or email address" })
  @IsOptional()
  @IsString()
  subject?: string;

  @ApiPropertyOptional({ type: String, description: 'Organization id' })
  @IsOptional()
  @IsString()
  organization?: string;

  @ApiPropertyOptional({ type: String, description: 'OAuth client id' })
  @IsOptional()
  @IsString()
  client?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'RFC 3339; events that occurred at or after it' })
  @IsOptional()
  @IsString()
  since?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'RFC 3339; events that occurred before it' })
  @IsOptional()
  @IsString()
  until?: string;

  @ApiPropertyOptional({ type: String, description: 'next_cursor of the previous page: events after it' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class AuditExportQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: ['ndjson', 'csv'], enumName: 'AuditExportFormat', description: 'The format; without it, the Accept header chooses (text/csv or application/x-ndjson), else NDJSON' })
  @IsOptional()
  @IsString()
  format?: string;
}

export class AuditEventsQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: 'Events per page' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

class AuditActorDto {
  @ApiProperty({ type: String, nullable: true, enum: ['user', 'client', 'system'] })
  type!: string | null;

  @ApiProperty({ type: String, nullable: true })
  issuer!: string | null;

  @ApiProperty({ type: String, nullable: true })
  email!: string | null;

  @ApiProperty({ type: String, nullable: true })
  subject_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  external_id!: string | null;
}

/** One audit event, as the query answers it and the export writes it (one per line). */
export class AuditEventDto {
  @ApiProperty({ type: String, format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, description: 'Position in the chain (a 64-bit integer, as text)' })
  sequence!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  occurred_at!: string;

  @ApiProperty({ type: String, enum: Object.keys(AUDIT_EVENT_TYPES) })
  type!: string;

  @ApiProperty({ type: String, enum: ['success', 'failure'] })
  outcome!: string;

  @ApiProperty({ type: AuditActorDto })
  actor!: AuditActorDto;

  @ApiProperty({ type: String, nullable: true })
  organization!: string | null;

  @ApiProperty({ type: String, nullable: true })
  client_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  device_label!: string | null;

  @ApiProperty({ type: String, nullable: true })
  token_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  user_agent!: string | null;

  @ApiProperty({ type: String, nullable: true })
  request_id!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the event type records; never a secret' })
  details!: Record<string, unknown>;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] })
  events!: AuditEventDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  next_cursor!: string | null;
}

class AuditChainBreakDto {
  @ApiProperty({ type: Number })
  seal_seq!: number;

  @ApiPropertyOptional({ type: String, format: 'uuid' })
  event_id?: string;

  @ApiProperty({ type: String, enum: ['event_altered', 'event_missing', 'event_unsealed', 'chain_broken'] })
  reason!: string;
}

/** Either `ok: true` with the chain's extent, or `ok: false` with the first break. */
export class AuditVerifyReportDto {
  @ApiProperty({ type: Boolean })
  ok!: boolean;

  @ApiPropertyOptional({ type: Number, description: 'ok only' })
  seals?: number;

  @ApiPropertyOptional({ type: Number, description: 'ok only' })
  events?: number;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'ok only: the newest sealed event; null before the first seal' })
  last_event_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "ok only: the newest seal's digest; keep it elsewhere to detect a rewrite of the whole chain" })
  digest?: string | null;

  @ApiPropertyOptional({ type: AuditChainBreakDto, description: 'Not ok only: the first break' })
  break?: AuditChainBreakDto;
}
