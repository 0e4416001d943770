import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';

export class LookupQueryDto {
  @ApiProperty({ type: String, description: 'The user code as the person typed it (case, spaces and dashes do not matter)', example: 'BCDF-GHJK' })
  @IsString()
  user_code!: string;
}

/** A live code: what the page shows before sign-in. Every other code is just `{"valid": false}`. */
export class LookupResponseDto {
  @ApiProperty({ type: Boolean })
  valid!: boolean;

  @ApiPropertyOptional({ type: String })
  client_id?: string;

  @ApiPropertyOptional({ type: String })
  client_name?: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  device_label?: string | null;

  @ApiPropertyOptional({ type: Number, description: 'Seconds until the code expires' })
  expires_in?: number;
}
