import { ApiProperty } from '@nestjs/swagger';

/** The presenting token: who, through which client and device, with what, until when. */
export class MeResponseDto {
  @ApiProperty({ type: String, format: 'uuid', description: "devicegate's subject id" })
  sub!: string;

  @ApiProperty({ type: String, description: 'Who vouched for the subject: the IdP issuer, or urn:devicegate:local' })
  issuer!: string;

  @ApiProperty({ type: String, description: "The subject's id at that issuer" })
  external_id!: string;

  @ApiProperty({ type: String })
  email!: string;

  @ApiProperty({ type: String })
  name!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The organization the token belongs to' })
  organization!: string | null;

  @ApiProperty({ type: String })
  client_id!: string;

  @ApiProperty({ type: String, nullable: true })
  device_label!: string | null;

  @ApiProperty({ type: [String] })
  scopes!: string[];

  @ApiProperty({ type: String, format: 'uuid', description: 'The authorization the token belongs to' })
  authorization_id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  expires_at!: string;
}
