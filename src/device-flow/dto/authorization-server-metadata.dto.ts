import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 8414 §2 */
export class AuthorizationServerMetadataDto {
  @ApiProperty({ type: String, format: 'uri' })
  issuer!: string;

  @ApiProperty({ type: String, format: 'uri' })
  device_authorization_endpoint!: string;

  @ApiProperty({ type: String, format: 'uri' })
  token_endpoint!: string;

  @ApiProperty({ type: String, format: 'uri' })
  introspection_endpoint!: string;

  @ApiProperty({ type: String, format: 'uri' })
  revocation_endpoint!: string;

  @ApiProperty({ type: [String] })
  grant_types_supported!: string[];

  @ApiProperty({ type: [String], description: 'Empty: devicegate has no authorization endpoint' })
  response_types_supported!: string[];

  @ApiProperty({ type: [String] })
  scopes_supported!: string[];

  @ApiProperty({ type: [String] })
  token_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  device_authorization_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  introspection_endpoint_auth_methods_supported!: string[];

  @ApiProperty({ type: [String] })
  revocation_endpoint_auth_methods_supported!: string[];

  @ApiPropertyOptional({ type: String, format: 'uri', description: 'These API docs, when DOCS_ENABLED' })
  service_documentation?: string;
}
