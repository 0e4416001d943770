import { ApiProperty } from '@nestjs/swagger';

class AuthorizationClientDto {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  name!: string;
}

class LastUseDto {
  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;
}

class ApprovalOriginDto {
  @ApiProperty({ type: String, description: 'The address of the browser that approved' })
  ip!: string;

  @ApiProperty({ type: String, description: 'Its User-Agent (what the browser says it is; it proves nothing)' })
  user_agent!: string;
}

export class AuthorizationDto {
  @ApiProperty({ type: String, format: 'uuid' })
  id!: string;

  @ApiProperty({ type: AuthorizationClientDto })
  client!: AuthorizationClientDto;

  @ApiProperty({ type: String, nullable: true })
  device_label!: string | null;

  @ApiProperty({ type: [String] })
  scopes!: string[];

  @ApiProperty({ type: String, nullable: true })
  organization!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: LastUseDto, nullable: true })
  last_used!: LastUseDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  expires_at!: string;

  @ApiProperty({ type: Boolean, description: 'It has a refresh token' })
  refreshable!: boolean;

  @ApiProperty({ type: Boolean, description: 'The presenting token belongs to it' })
  current!: boolean;

  @ApiProperty({ type: ApprovalOriginDto, nullable: true, description: 'The browser whose approval produced the current token; null when approved before this was recorded' })
  approved_from!: ApprovalOriginDto | null;
}

export class AuthorizationListDto {
  @ApiProperty({ type: [AuthorizationDto] })
  authorizations!: AuthorizationDto[];
}

export class RevokedCountDto {
  @ApiProperty({ type: Number, description: 'How many authorizations were revoked' })
  revoked!: number;
}
