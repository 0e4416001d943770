import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 6749 §5.2: every error devicegate answers, whatever the endpoint. */
export class OAuthErrorDto {
  @ApiProperty({ type: String, description: 'The error code', example: 'invalid_request' })
  error!: string;

  @ApiProperty({ type: String, description: 'What went wrong, for a person to read', example: 'client_id is required' })
  error_description!: string;

  @ApiPropertyOptional({ type: Number, description: 'slow_down only (RFC 8628 §3.5): the polling interval to use from now on, in seconds' })
  interval?: number;
}
