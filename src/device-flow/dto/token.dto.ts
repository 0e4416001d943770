import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from '../../config/app-config';
import { ClientAuthenticationDto } from '../../clients/dto/client-authentication.dto';

/** RFC 8628 §3.4 (device_code) and RFC 6749 §6 (refresh_token). */
export class TokenRequestDto extends ClientAuthenticationDto {
  @ApiProperty({ type: String, enum: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT], example: DEVICE_CODE_GRANT })
  @IsIn([DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT])
  grant_type!: string;

  @ApiPropertyOptional({ type: String, description: `The device_code of /oauth/device/code; required with ${DEVICE_CODE_GRANT}` })
  @IsOptional()
  @IsString()
  device_code?: string;

  @ApiPropertyOptional({ type: String, description: 'Required with refresh_token; it is rotated: the answer carries the next one' })
  @IsOptional()
  @IsString()
  refresh_token?: string;

  @ApiPropertyOptional({ type: String, description: 'refresh_token only: narrows the new access token to these scopes (never wider than granted)' })
  @IsOptional()
  @IsString()
  scope?: string;
}

/** RFC 6749 §5.1 */
export class TokenResponseDto {
  @ApiProperty({ type: String, description: 'An opaque bearer token (dgat_…)' })
  access_token!: string;

  @ApiProperty({ type: String, enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ type: Number, description: 'Seconds until the access token expires' })
  expires_in!: number;

  @ApiProperty({ type: String, description: 'Space-separated scopes the token carries', example: 'profile read' })
  scope!: string;

  @ApiPropertyOptional({ type: String, description: 'For clients allowed the refresh_token grant: an opaque refresh token (dgrt_…)' })
  refresh_token?: string;
}
