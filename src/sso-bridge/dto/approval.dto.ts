import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

class OrganizationViewDto {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  name!: string;
}

class SignedInSubjectDto {
  @ApiProperty({ type: String, description: 'The IdP that vouched for the person' })
  issuer!: string;

  @ApiProperty({ type: String })
  email!: string;

  @ApiProperty({ type: String })
  name!: string;

  @ApiProperty({ type: OrganizationViewDto, nullable: true })
  organization!: OrganizationViewDto | null;
}

class RequestingClientDto {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  name!: string;

  @ApiProperty({ type: OrganizationViewDto, nullable: true, description: 'Set: only members of this organization may approve' })
  organization!: OrganizationViewDto | null;
}

class ScopeViewDto {
  @ApiProperty({ type: String })
  name!: string;

  @ApiProperty({ type: String })
  description!: string;
}

class DeviceRequestDto {
  @ApiProperty({ type: String, description: 'Where the device asked from' })
  ip!: string;

  @ApiProperty({ type: String })
  user_agent!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;
}

/** What the signed-in person is asked to approve. */
export class ApprovalContextDto {
  @ApiProperty({ type: String, example: 'BCDF-GHJK' })
  user_code!: string;

  @ApiProperty({ type: SignedInSubjectDto })
  subject!: SignedInSubjectDto;

  @ApiProperty({ type: RequestingClientDto })
  client!: RequestingClientDto;

  @ApiProperty({ type: String, nullable: true })
  device_label!: string | null;

  @ApiProperty({ type: [ScopeViewDto], description: 'What the token will hold' })
  scopes!: ScopeViewDto[];

  @ApiProperty({ type: [ScopeViewDto], description: 'Asked for, but restricted to other people: left out of the token' })
  withheld_scopes!: ScopeViewDto[];

  @ApiProperty({ type: DeviceRequestDto })
  request!: DeviceRequestDto;

  @ApiProperty({ type: String })
  approving_ip!: string;

  @ApiProperty({ type: Boolean, description: 'The device asked from the address the person approves from' })
  same_ip!: boolean;

  @ApiProperty({ type: String, description: 'Send it back as X-CSRF-Token with approve or deny' })
  csrf_token!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'When the sign-in or the code runs out, whichever is first' })
  expires_at!: string;

  @ApiProperty({ type: Number, description: 'Seconds until expires_at' })
  expires_in!: number;
}

export class DecisionRequestDto {
  @ApiProperty({ type: String, description: 'The code the sign-in was for', example: 'BCDF-GHJK' })
  @IsString()
  user_code!: string;
}

export class DecisionResponseDto {
  @ApiProperty({ type: String, enum: ['approved', 'denied'] })
  status!: 'approved' | 'denied';
}
