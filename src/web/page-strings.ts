/**
 * Every word the /device page shows, server-rendered or written by its
 * script, in one table so the page can be translated. `{name}` is a value
 * filled in when the page runs. A translation supplies every key.
 */
export const PAGE_STRINGS = {
  lang: 'en',
  siteName: 'devicegate',
  loading: 'Loading…',
  noScript: 'Approving a device needs JavaScript. Turn it on and reload this page.',

  enterTitle: 'Connect a device',
  enterIntro: 'Enter the code your device shows, then sign in with your work account.',
  prefillNotice: 'The link you followed filled in this code. Check that it is exactly the code your device shows.',
  cautionLead: 'Only continue if you started this yourself, on a device you have.',
  cautionDetail:
    'If someone sent you this code or link, or asked you to enter it, close this page: approving would give them access to your account.',
  codeLabel: 'Code',
  codeHint: '8 letters, as your device shows them, for example WDJB-MJHT',
  continueButton: 'Continue',
  badCode:
    'That code is not valid: it may be mistyped, expired or already used. Check the code on your device, or start again there to get a new one.',

  summaryCode: 'Code',
  summaryClient: 'Application',
  summaryDevice: 'Device name',
  expiresIn: 'The code expires in about {minutes} min.',
  changeCode: 'Use a different code',
  signInIntro: 'Sign in to see exactly what it asks for. Nothing is approved until you choose Approve.',
  ssoHeading: 'Sign in with your company account',
  ssoButton: 'Sign in with {connector}',
  emailLabel: 'Or enter your work email',
  emailHint: "Your email's domain picks your company's sign-in.",
  emailButton: 'Continue with email',
  emailRequired: 'Enter your work email address, for example you@example.com.',
  localHeading: 'Sign in',
  localHeadingWithSso: 'Or sign in with a local account',
  directoryHeading: 'Sign in with your {connector} account',
  usernameLabel: 'Username',
  passwordLabel: 'Password',
  signInButton: 'Sign in',
  wrongPassword: 'Unknown user or wrong password.',
  signInEnded:
    'Your sign-in has ended: it lasts a few minutes and is good for one decision. Nothing was approved. Enter the code again to continue.',
  signInExpired: 'Your sign-in expired before you decided. Nothing was approved. Sign in again to continue.',

  consentTitle: 'Approve this device?',
  consentLead: '{client} wants to act as you, from the device described below.',
  signedInAs: 'Signed in as',
  identity: '{name} ({email})',
  withOrganization: '{value}, {organization}',
  requestHeading: 'What asks for access',
  applicationLabel: 'Application',
  deviceLabel: 'Device name',
  deviceUnnamed: 'No name given',
  codeRowLabel: 'Code',
  originHeading: 'Where and when the request started',
  ipLabel: 'IP address',
  agentLabel: 'Software',
  timeLabel: 'Started',
  startedAt: '{time} ({relative})',
  justNow: 'just now',
  unknown: 'Unknown',
  selfDescribed: 'The device chose its name and software description itself; they prove nothing.',
  scopesHeading: 'If you approve, it will be able to',
  withheldHeading: 'It also asked for these, which your account may not grant; it will not get them:',
  ipWarningTitle: 'This request came from a different network',
  ipWarningDetail: 'The device asked for this code from {requestIp}, but you are connecting from {approvingIp}.',
  ipWarningAdvice:
    'That is normal for a remote server, a container or a VPN. If you are not sure you started this yourself, deny it.',
  approveOnly: 'Approve only if you started this on a device you have.',
  approveOnlyDetail: 'If someone sent you this code or asked you to enter it, deny: approving would give them access to your account.',
  approveButton: 'Approve',
  denyButton: 'Deny',
  decideBefore: 'Decide before {time}; after that you will have to sign in again.',

  approvedTitle: 'Device approved',
  approvedDetail: '{client} on “{device}” can now act as you.',
  approvedDetailUnnamed: '{client} can now act as you.',
  approvedNext: 'You can close this tab and go back to your device: it finishes signing in by itself within a few seconds.',
  deniedTitle: 'Request denied',
  deniedDetail: 'Nothing was given to the device.',
  deniedNext:
    'You can close this tab. If you did mean to connect the device, start again on it to get a new code. If you did not start this request, tell your security team: someone may be trying to get into your account.',
  expiredTitle: 'This code has expired',
  expiredDetail: 'It can no longer be used: a code works for a few minutes and only once. Nothing was approved.',
  expiredNext: 'Start again on your device to get a new code, then enter it on this page.',
  newCodeLink: 'Enter a new code',
  errorTitle: 'Something went wrong',
  errorNext: 'Nothing was approved and your device is still waiting. Try again; if it keeps failing, start again on your device.',
  tryAgainButton: 'Try again',
  startOverLink: 'Start over',

  tooManySeconds: 'Too many codes were tried in a short time. Please wait {seconds} seconds, then try again.',
  tooManyMinutes: 'Too many codes were tried in a short time. Please wait about {minutes} minutes, then try again.',
  unavailable: 'The service is not available right now. Please try again in a moment.',
  unreachable: 'The server cannot be reached. Check your connection and try again.',
  unexpected: 'That did not work.',
} as const;

export type PageStrings = Record<keyof typeof PAGE_STRINGS, string>;

/** Fills `{name}` placeholders; the page script has the same function. */
export function fillString(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key] : whole));
}
