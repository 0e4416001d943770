import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from './app-config';

// RFC 6749 §3.3 scope-token: printable ASCII except space, quote and backslash.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export class ScopeEntry {
  @Matches(SCOPE_TOKEN, { message: 'scope name must be printable ASCII without spaces, quotes or backslashes' })
  @Length(1, 128)
  name!: string;

  @IsString()
  @Length(1, 300)
  description!: string;
}

export class ClientEntry {
  @Matches(/^[\w.:-]{1,128}$/, { message: 'client_id may hold letters, digits and . : _ - (at most 128)' })
  client_id!: string;

  @IsString()
  @Length(1, 120)
  name!: string;

  @IsIn(['public', 'confidential'])
  type!: 'public' | 'confidential';

  @IsOptional()
  @IsString()
  client_secret?: string;

  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/, { message: 'client_secret_sha256 must be 64 lowercase hex digits' })
  client_secret_sha256?: string;

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn([DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT], { each: true })
  grant_types?: string[];

  @IsArray()
  @ArrayUnique()
  @Matches(SCOPE_TOKEN, { each: true })
  scopes!: string[];

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @Matches(SCOPE_TOKEN, { each: true })
  default_scopes?: string[];

  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(3600)
  device_code_ttl?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  poll_interval?: number;

  @IsOptional()
  @IsInt()
  @Min(60)
  access_token_ttl?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class LocalUserEntry {
  @Matches(/^[\w.@+-]{1,128}$/, { message: 'username may hold letters, digits and . @ + _ -' })
  username!: string;

  @IsEmail({ require_tld: false })
  email!: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @Matches(/^scrypt\$\d+\$\d+\$\d+\$[\w+/=-]+\$[\w+/=-]+$/, {
    message: 'password_hash must come from `npm run hash-password` (scrypt$N$r$p$salt$hash)',
  })
  password_hash!: string;
}

/** The optional file named by DEVICEGATE_CONFIG (YAML or JSON). */
export class ConfigFile {
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ScopeEntry)
  scopes?: ScopeEntry[];

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ClientEntry)
  clients?: ClientEntry[];

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LocalUserEntry)
  users?: LocalUserEntry[];
}
