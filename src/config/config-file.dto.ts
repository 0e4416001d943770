import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT } from './app-config';

// Ids of organizations and connectors appear in URLs.
const ENTITY_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const DURATION = /^\d+[smh]?$/;

// RFC 6749 §3.3 scope-token: printable ASCII except space, quote and backslash.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export class ScopeEntry {
  @Matches(SCOPE_TOKEN, { message: 'scope name must be printable ASCII without spaces, quotes or backslashes' })
  @Length(1, 128)
  name!: string;

  @IsString()
  @Length(1, 300)
  description!: string;

  /**
   * Only these people may hold the scope; others approving a request for it get a token without it.
   * Each is `<organization>:<email>`, `subject:<subject id>`, or a bare `<email>` for a person of no organization.
   */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  granted_to?: string[];

  /** The approval page marks the scope as one that changes things; `write` and `admin` (also as a `:`, `.` or `/` part of a name) are by default. */
  @IsOptional()
  @IsBoolean()
  sensitive?: boolean;
}

/** Whose /device page it is. */
export class OperatorEntry {
  @IsOptional()
  @IsString()
  @Length(1, 80)
  name?: string;

  /** An https URL; the page's Content-Security-Policy then allows images from its origin. */
  @IsOptional()
  @IsUrl({ protocols: ['https'], require_protocol: true, require_tld: false }, { message: 'operator.logo_url must be an https URL' })
  logo_url?: string;

  /** A PNG, SVG, WebP, JPEG or ICO file (at most 256 KB), read at boot and served by devicegate at /device/logo. */
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  logo_file?: string;

  @IsOptional()
  @IsEmail({ require_tld: false }, { message: 'operator.support_email must be an email address' })
  support_email?: string;

  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false }, { message: 'operator.support_url must be an http(s) URL' })
  support_url?: string;
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

  /** May introspect tokens (RFC 7662); confidential clients only. */
  @IsOptional()
  @IsBoolean()
  resource_server?: boolean;

  @IsOptional()
  @IsInt()
  @Min(60)
  refresh_token_idle_ttl?: number;

  @IsOptional()
  @IsInt()
  @Min(60)
  refresh_token_absolute_ttl?: number;

  /** Only members of this organization may approve the client; its tokens carry the organization. */
  @IsOptional()
  @Matches(ENTITY_ID, { message: 'organization must name an organization id' })
  organization?: string;
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

export class OrganizationEntry {
  @Matches(ENTITY_ID, { message: 'organization id may hold lowercase letters, digits, _ and - (at most 64)' })
  id!: string;

  @IsOptional()
  @Matches(ENTITY_ID, { message: 'organization slug may hold lowercase letters, digits, _ and - (at most 64)' })
  slug?: string;

  @IsString()
  @Length(1, 200)
  name!: string;

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @Matches(DOMAIN, { each: true, message: 'email_domains must be lowercase domain names like example.com' })
  email_domains?: string[];
}

export class SamlSettingsEntry {
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  @IsUrl({ require_tld: false, protocols: ['https', 'http'], require_protocol: true })
  entry_point!: string;

  /** The IdP's entity id: the Issuer every response and assertion must carry. */
  @IsString()
  @Length(1, 512)
  idp_issuer!: string;

  /** The IdP's signing certificate(s), PEM or bare base64; several while the IdP rolls its key over. */
  @IsArray()
  @ArrayNotEmpty()
  @IsString({ each: true })
  idp_certs!: string[];

  @IsOptional()
  @IsString()
  @Length(1, 512)
  sp_entity_id?: string;

  /** The Response must be signed as well as the Assertion (default true); some IdPs sign only the assertion. */
  @IsOptional()
  @IsBoolean()
  want_response_signed?: boolean;

  /** Accept RSA-SHA1 signatures and SHA-1 digests (default false; for old ADFS that cannot sign with SHA-256). */
  @IsOptional()
  @IsBoolean()
  allow_sha1?: boolean;

  @IsOptional()
  @Matches(DURATION, { message: 'clock_skew must be a duration like 0s or 30s' })
  clock_skew?: string;

  @IsOptional()
  @IsString()
  email_attribute?: string;

  @IsOptional()
  @IsString()
  name_attribute?: string;
}

export class OidcSettingsEntry {
  /** The IdP's issuer; devicegate reads `<issuer>/.well-known/openid-configuration`. */
  @IsUrl({ require_tld: false, protocols: ['https', 'http'], require_protocol: true })
  issuer!: string;

  @IsString()
  @Length(1, 512)
  client_id!: string;

  @IsOptional()
  @IsString()
  client_secret?: string;

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @Matches(SCOPE_TOKEN, { each: true })
  scopes?: string[];

  @IsOptional()
  @IsString()
  email_claim?: string;

  @IsOptional()
  @IsString()
  name_claim?: string;

  /** Accept only an id_token whose `email_verified` is the boolean true (default true). */
  @IsOptional()
  @IsBoolean()
  require_verified_email?: boolean;

  /** Accept id_tokens signed with HS256/384/512 and the client secret (default false: only the IdP's public keys). */
  @IsOptional()
  @IsBoolean()
  allow_hmac_id_tokens?: boolean;

  /** Allows an http:// issuer outside production (a local IdP while developing). */
  @IsOptional()
  @IsBoolean()
  allow_insecure_http?: boolean;
}

export class LdapSettingsEntry {
  /** `ldaps://host:636`; plain `ldap://` only outside production. */
  @IsUrl({ require_tld: false, protocols: ['ldap', 'ldaps'], require_protocol: true })
  url!: string;

  /** The service account that searches for the person (interpolate its password from the environment). */
  @IsString()
  @Length(1, 512)
  bind_dn!: string;

  @IsString()
  @Length(1, 1024)
  bind_password!: string;

  @IsString()
  @Length(1, 512)
  search_base!: string;

  /** `{{username}}` stands for what the person typed, escaped (RFC 4515). */
  @IsOptional()
  @Matches(/^\(.*\{\{username\}\}.*\)$/, { message: 'search_filter must be an LDAP filter in parentheses holding {{username}}' })
  search_filter?: string;

  @IsOptional()
  @IsString()
  email_attribute?: string;

  @IsOptional()
  @IsString()
  name_attribute?: string;

  /** The attribute that names the person for good (entryUUID on OpenLDAP; userPrincipalName on Active Directory). */
  @IsOptional()
  @IsString()
  id_attribute?: string;

  /** PEM certificates of the CA(s) that sign the directory's certificate, when the system store does not hold them. */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  ca_certs?: string[];

  @IsOptional()
  @Matches(DURATION, { message: 'timeout must be a duration like 5s' })
  timeout?: string;
}

export class ConnectorEntry {
  @Matches(ENTITY_ID, { message: 'connector id may hold lowercase letters, digits, _ and - (at most 64)' })
  id!: string;

  @IsIn(['saml', 'oidc', 'ldap', 'local'])
  type!: 'saml' | 'oidc' | 'ldap' | 'local';

  @IsOptional()
  @Matches(ENTITY_ID, { message: 'organization must name an organization id' })
  organization?: string;

  @IsString()
  @Length(1, 120)
  display_name!: string;

  /** Overrides the organization's email_domains for this connector's identities; [] accepts any address. */
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @Matches(DOMAIN, { each: true, message: 'email_domains must be lowercase domain names like example.com' })
  email_domains?: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => SamlSettingsEntry)
  saml?: SamlSettingsEntry;

  @IsOptional()
  @ValidateNested()
  @Type(() => OidcSettingsEntry)
  oidc?: OidcSettingsEntry;

  @IsOptional()
  @ValidateNested()
  @Type(() => LdapSettingsEntry)
  ldap?: LdapSettingsEntry;
}

/** The optional file named by DEVICEGATE_CONFIG (YAML or JSON). */
export class ConfigFile {
  @IsOptional()
  @ValidateNested()
  @Type(() => OperatorEntry)
  operator?: OperatorEntry;

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

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => OrganizationEntry)
  organizations?: OrganizationEntry[];

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConnectorEntry)
  connectors?: ConnectorEntry[];
}
