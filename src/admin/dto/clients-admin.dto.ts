import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from '../../config/app-config';

/** A client as the admin API shows it: never a secret or its hash. */
export class ClientViewDto {
  @ApiProperty({ type: String })
  client_id!: string;

  @ApiProperty({ type: String })
  name!: string;

  @ApiProperty({ type: String, enum: ['public', 'confidential'] })
  type!: 'public' | 'confidential';

  @ApiProperty({ type: String, enum: ['config', 'database'], description: 'Clients of the config file are changed in the file' })
  source!: 'config' | 'database';

  @ApiProperty({ type: Boolean })
  enabled!: boolean;

  @ApiProperty({ type: [String] })
  grant_types!: string[];

  @ApiProperty({ type: [String] })
  scopes!: string[];

  @ApiProperty({ type: [String] })
  default_scopes!: string[];

  @ApiProperty({ type: String, nullable: true })
  organization!: string | null;

  @ApiProperty({ type: Boolean })
  resource_server!: boolean;
}

export class ClientListDto {
  @ApiProperty({ type: [ClientViewDto] })
  clients!: ClientViewDto[];
}

export class RegisteredClientDto extends ClientViewDto {
  @ApiPropertyOptional({ type: String, description: 'Confidential clients only: the generated secret, shown this once' })
  client_secret?: string;
}

/**
 * A database client. The service checks the body against the config file's
 * client entry, whose fields these are (a spec keeps them in step) without
 * the secret: devicegate generates the secret of a confidential client.
 */
export class RegisterClientDto {
  @ApiPropertyOptional({ type: String, pattern: '^[\\w.:-]{1,128}$', description: 'Generated (dgc_…) when omitted' })
  @IsOptional()
  @Matches(/^[\w.:-]{1,128}$/)
  client_id?: string;

  @ApiProperty({ type: String, minLength: 1, maxLength: 120 })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ type: String, enum: ['public', 'confidential'] })
  @IsIn(['public', 'confidential'])
  type!: 'public' | 'confidential';

  @ApiPropertyOptional({ type: [String], enum: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT], description: `Default: ${DEVICE_CODE_GRANT}` })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn([DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT], { each: true })
  grant_types?: string[];

  @ApiProperty({ type: [String], description: 'Scopes of the scope catalog the client may ask for' })
  @IsArray()
  @ArrayUnique()
  scopes!: string[];

  @ApiPropertyOptional({ type: [String], description: 'Granted when a device asks for no scope; among scopes' })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  default_scopes?: string[];

  @ApiPropertyOptional({ type: Number, minimum: 60, maximum: 3600, description: 'Seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(3600)
  device_code_ttl?: number;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 60, description: 'Seconds' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  poll_interval?: number;

  @ApiPropertyOptional({ type: Number, minimum: 60, description: 'Seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  access_token_ttl?: number;

  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: Boolean, description: 'May introspect tokens (RFC 7662); confidential clients only' })
  @IsOptional()
  @IsBoolean()
  resource_server?: boolean;

  @ApiPropertyOptional({ type: Number, minimum: 60, description: 'Seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  refresh_token_idle_ttl?: number;

  @ApiPropertyOptional({ type: Number, minimum: 60, description: 'Seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  refresh_token_absolute_ttl?: number;

  @ApiPropertyOptional({ type: String, description: 'Only members of this organization may approve the client' })
  @IsOptional()
  @IsString()
  organization?: string;
}

export class UpdateClientDto {
  @ApiProperty({ type: Boolean })
  @IsBoolean()
  enabled!: boolean;
}
