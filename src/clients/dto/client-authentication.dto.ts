import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

/**
 * RFC 6749 §2.3: a public client sends its client_id; a confidential one
 * authenticates with client_secret_basic (the Authorization header) or
 * client_secret_post (these fields), never both.
 */
export class ClientAuthenticationDto {
  @ApiPropertyOptional({ type: String, description: 'The client; required unless the Authorization header carries it (client_secret_basic)', example: 'mycli' })
  @IsOptional()
  @IsString()
  client_id?: string;

  @ApiPropertyOptional({ type: String, description: 'client_secret_post: the secret of a confidential client (public clients have none)' })
  @IsOptional()
  @IsString()
  client_secret?: string;
}
