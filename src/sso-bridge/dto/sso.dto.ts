import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

export class InitiateQueryDto {
  @ApiProperty({ type: String, example: 'BCDF-GHJK' })
  @IsString()
  user_code!: string;

  @ApiPropertyOptional({ type: String, description: 'The connector to sign in with; or give email' })
  @IsOptional()
  @IsString()
  connector?: string;

  @ApiPropertyOptional({ type: String, description: "Picks the connector of the email's domain" })
  @IsOptional()
  @IsString()
  email?: string;
}

/** SAML 2.0 HTTP-POST binding (SAML Bindings §3.5). */
export class SamlResponseDto {
  @ApiProperty({ type: String, description: 'The base64 SAML Response, signed by the IdP' })
  @IsString()
  SAMLResponse!: string;

  @ApiProperty({ type: String, description: 'The state envelope devicegate sent the IdP' })
  @IsString()
  RelayState!: string;
}

/** OpenID Connect Core §3.1.2.5–3.1.2.6: what the IdP sends the browser back with. */
export class OidcCallbackQueryDto {
  @ApiPropertyOptional({ type: String, description: 'The authorization code' })
  @IsOptional()
  @IsString()
  code?: string;

  @ApiProperty({ type: String, description: 'The state envelope devicegate sent the IdP' })
  @IsString()
  state!: string;

  @ApiPropertyOptional({ type: String, description: 'RFC 9207: the issuer of the response' })
  @IsOptional()
  @IsString()
  iss?: string;

  @ApiPropertyOptional({ type: String, description: 'An IdP error instead of a code' })
  @IsOptional()
  @IsString()
  error?: string;

  @ApiPropertyOptional({ type: String })
  @IsOptional()
  @IsString()
  error_description?: string;
}

export class LocalLoginRequestDto {
  @ApiProperty({ type: String, example: 'BCDF-GHJK' })
  @IsString()
  user_code!: string;

  @ApiProperty({ type: String })
  @IsString()
  username!: string;

  @ApiProperty({ type: String, format: 'password' })
  @IsString()
  password!: string;
}
