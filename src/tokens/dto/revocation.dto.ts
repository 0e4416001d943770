import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { ClientAuthenticationDto } from '../../clients/dto/client-authentication.dto';

/** RFC 7009 §2.1 */
export class RevocationRequestDto extends ClientAuthenticationDto {
  @ApiProperty({ type: String, description: 'An access token (dgat_…) or a refresh token (dgrt_…) of the calling client' })
  @IsString()
  token!: string;

  @ApiPropertyOptional({ type: String, enum: ['access_token', 'refresh_token'], description: 'Only a hint: the prefix of the token says what it is' })
  @IsOptional()
  @IsString()
  token_type_hint?: string;
}
