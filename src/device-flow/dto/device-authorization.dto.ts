import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ClientAuthenticationDto } from '../../clients/dto/client-authentication.dto';

/** RFC 8628 §3.1 */
export class DeviceAuthorizationRequestDto extends ClientAuthenticationDto {
  @ApiPropertyOptional({ type: String, description: "Space-separated scopes; the client's default scopes when omitted", example: 'profile read' })
  @IsOptional()
  @IsString()
  scope?: string;

  @ApiPropertyOptional({ type: String, description: 'What the person will see as the device: 1 to 64 printable characters', example: 'build-agent-7', maxLength: 64 })
  @IsOptional()
  @Matches(/^[^\p{C}]{1,64}$/u)
  device_label?: string;
}

/** RFC 8628 §3.2 */
export class DeviceAuthorizationResponseDto {
  @ApiProperty({ type: String, description: 'The code the device polls /oauth/token with; shown to nobody' })
  device_code!: string;

  @ApiProperty({ type: String, description: 'The code the person types at verification_uri', example: 'BCDF-GHJK' })
  user_code!: string;

  @ApiProperty({ type: String, format: 'uri', example: 'https://login.example.com/device' })
  verification_uri!: string;

  @ApiProperty({ type: String, format: 'uri', description: 'verification_uri with the code filled in (for a QR code); opening it never approves', example: 'https://login.example.com/device?user_code=BCDF-GHJK' })
  verification_uri_complete!: string;

  @ApiProperty({ type: Number, description: 'Seconds until both codes expire', example: 600 })
  expires_in!: number;

  @ApiProperty({ type: Number, description: 'Seconds to wait between polls', example: 5 })
  interval!: number;
}
