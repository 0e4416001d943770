import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { ClientAuthenticationDto } from '../../clients/dto/client-authentication.dto';

/** RFC 7662 §2.1, from a resource server (a confidential client with resource_server: true). */
export class IntrospectionRequestDto extends ClientAuthenticationDto {
  @ApiProperty({ type: String, description: 'The access token to look at' })
  @IsString()
  token!: string;

  @ApiPropertyOptional({ type: String, description: 'Ignored: the prefix of the token says what it is' })
  @IsOptional()
  @IsString()
  token_type_hint?: string;
}

/** RFC 7662 §2.2: everything but `active` only for a live token; unknown, expired or revoked ones are `{"active": false}`. */
export class IntrospectionResponseDto {
  @ApiProperty({ type: Boolean })
  active!: boolean;

  @ApiPropertyOptional({ type: String, description: 'Space-separated scopes' })
  scope?: string;

  @ApiPropertyOptional({ type: String })
  client_id?: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', description: "devicegate's subject id" })
  sub?: string;

  @ApiPropertyOptional({ type: String, description: 'The email address of the subject' })
  username?: string;

  @ApiPropertyOptional({ type: String })
  email?: string;

  @ApiPropertyOptional({ type: String, description: 'The organization the token belongs to' })
  org?: string;

  @ApiPropertyOptional({ type: String })
  device_label?: string;

  @ApiPropertyOptional({ type: String, enum: ['Bearer'] })
  token_type?: string;

  @ApiPropertyOptional({ type: Number, description: 'Issued at (Unix time)' })
  iat?: number;

  @ApiPropertyOptional({ type: Number, description: 'Expires at (Unix time)' })
  exp?: number;

  @ApiPropertyOptional({ type: String, format: 'uri' })
  iss?: string;
}
