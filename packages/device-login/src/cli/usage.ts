export const VERSION = '0.1.0';

export const HELP = `devicegate ${VERSION}: log in to a devicegate server from a terminal (OAuth 2.0 device flow)

Usage:
  devicegate login --issuer URL [--client ID] [--label NAME] [--scope "S1 S2"] [--no-browser] [--qr|--no-qr] [--show-token]
  devicegate whoami [--show-token]          who the stored login belongs to (GET /v1/me)
  devicegate token                          print the access token, refreshed if needed (for scripts)
  devicegate logout [--force]               revoke the login at the server and delete it here
  devicegate devices                        your live device logins
  devicegate devices revoke ID              revoke one of them
  devicegate audit export [--since 24h|RFC3339] [--until T] [--type T1,T2] [--subject S]
                          [--organization O] [--filter-client C] > events.ndjson
  devicegate audit verify                   check the audit digest chain (needs the audit:read scope)
  devicegate clients list                   every OAuth client (needs the admin scope, of no organization)
  devicegate clients create --name NAME [--id ID] [--type public|confidential] [--scopes "S1 S2"]
                          [--default-scopes "S1"] [--grant-types "device_code refresh_token"]
                          [--organization O] [--poll-interval SECONDS]
  devicegate clients disable|enable CLIENT_ID

Options for every command:
  --issuer URL     the server (DEVICEGATE_ISSUER); remembered per profile after login
  --client ID      the OAuth client (DEVICEGATE_CLIENT_ID; default devicegate-cli)
  --profile NAME   keep several logins side by side (DEVICEGATE_PROFILE; default "default")
  --json           one JSON object per line on stdout; errors as one JSON line on stderr
  -h, --help       this text;  --version

Tokens are printed only by "devicegate token" and by --show-token; a confidential client's
secret once, by "clients create".
Logins are kept in the OS keychain (macOS security, libsecret secret-tool) when there is one,
else in a 0600 file under $XDG_CONFIG_HOME/devicegate (~/.config/devicegate; %APPDATA% on
Windows); DEVICEGATE_CREDENTIAL_STORE=file|keychain|auto chooses.

Exit codes:
  0 ok                     5 network or server trouble (unreachable, 5xx, 429, lost answer)
  1 usage or unexpected    6 refused by the server (unknown client, scope, not found, …)
  2 not logged in          7 not available on this server (an older devicegate)
  3 login denied           8 credential store problem (e.g. a credential file others can read)
  4 code expired           9 audit chain broken (audit verify)
  130 interrupted (Ctrl-C)`;
