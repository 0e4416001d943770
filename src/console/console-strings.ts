/** Every word the console shows, in one table so it can be translated. `{name}` is filled in when a page is rendered. */
export const CONSOLE_STRINGS = {
  lang: 'en',
  siteName: 'devicegate console',
  signInTitle: 'Sign in to the console',
  signInIntro: 'See and revoke the devices you approved. Auditors and administrators find their views here too.',
  ssoHeading: 'Sign in with your company account',
  ssoButton: 'Sign in with {connector}',
  localHeading: 'Sign in with a local account',
  directoryHeading: 'Sign in with your {connector} account',
  usernameLabel: 'Username',
  passwordLabel: 'Password',
  signInButton: 'Sign in',
  noConnectors: 'No sign-in is set up for the console. Ask your administrator.',
  sessionEnded: 'Your console session has ended. Sign in again.',
  signedOut: 'You are signed out.',
  signedInAs: 'Signed in as {name} ({email})',
  organization: 'Organization: {organization}',
  signOutButton: 'Sign out',
  errorTitle: 'Something went wrong',
  backToConsole: 'Back to the console',

  devicesTitle: 'My devices',
  devicesIntro: 'Every device and application that holds access to your account right now.',
  noDevices: 'No device holds access to your account.',
  columnClient: 'Application',
  columnDevice: 'Device',
  columnOrganization: 'Organization',
  columnScopes: 'Access',
  columnApproved: 'Approved',
  columnLastUsed: 'Last used',
  columnExpires: 'Expires',
  columnAction: 'Action',
  never: 'never',
  none: '—',
  revokeButton: 'Revoke',
  revokeLabel: 'Revoke {client} on {device}',
  revoked: 'The authorization was revoked. That device can no longer use your account.',
  alreadyGone: 'That authorization was already revoked or has expired.',
};

export type ConsoleStrings = typeof CONSOLE_STRINGS;

/** A string of the table with its `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
