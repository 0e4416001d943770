/**
 * Every word the /device page (server-rendered or written by its script) and
 * the sign-in error page show, in one table per language so the pages can be
 * translated; this English one is the reference. `{name}` is a value filled in when the page
 * runs. A translation supplies every key, and only those (PAGE_CATALOG).
 */
export const PAGE_STRINGS = {
  lang: 'en',
  siteName: 'devicegate',
  runBy: 'This page is run by {operator}.',
  supportLead: 'Questions, or something you did not expect?',
  supportLink: 'Contact support',
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
  expiresIn: 'The code expires in about {minutes} min, at {time}.',
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
  sensitiveMarker: 'Changes things',
  sensitiveNote: 'Permissions marked “Changes things” let it change or administer things as you, not only read them.',
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
  myDevicesLink: 'See and revoke the devices that can act as you',
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

  signInFailedTitle: 'Sign-in failed',
  signInFailedLead: 'Your sign-in could not be completed. What the server said:',
  signInFailedDevice: 'Nothing was approved. If you were approving a device, it is still waiting:',
  signInFailedDeviceLink: 'enter its code again',
  signInFailedConsole: 'If you were signing in to the console:',
  signInFailedConsoleLink: 'sign in to the console again',
} as const;

export type PageStrings = Record<keyof typeof PAGE_STRINGS, string>;

/** German, complete: the proof that the page translates. */
const PAGE_STRINGS_DE: PageStrings = {
  lang: 'de',
  siteName: 'devicegate',
  runBy: 'Diese Seite wird von {operator} betrieben.',
  supportLead: 'Fragen, oder etwas, das Sie nicht erwartet haben?',
  supportLink: 'Support kontaktieren',
  loading: 'Wird geladen…',
  noScript: 'Zum Freigeben eines Geräts wird JavaScript benötigt. Schalten Sie es ein und laden Sie diese Seite neu.',

  enterTitle: 'Gerät verbinden',
  enterIntro: 'Geben Sie den Code ein, den Ihr Gerät anzeigt, und melden Sie sich dann mit Ihrem Arbeitskonto an.',
  prefillNotice: 'Der Link, dem Sie gefolgt sind, hat diesen Code eingetragen. Prüfen Sie, ob er genau dem Code auf Ihrem Gerät entspricht.',
  cautionLead: 'Fahren Sie nur fort, wenn Sie dies selbst gestartet haben, auf einem Gerät, das Sie besitzen.',
  cautionDetail:
    'Wenn Ihnen jemand diesen Code oder Link geschickt oder Sie gebeten hat, ihn einzugeben, schließen Sie diese Seite: Eine Freigabe gäbe dieser Person Zugriff auf Ihr Konto.',
  codeLabel: 'Code',
  codeHint: '8 Buchstaben, so wie Ihr Gerät sie anzeigt, zum Beispiel WDJB-MJHT',
  continueButton: 'Weiter',
  badCode:
    'Dieser Code ist ungültig: Er ist vielleicht vertippt, abgelaufen oder schon verwendet. Prüfen Sie den Code auf Ihrem Gerät, oder starten Sie dort neu, um einen neuen zu erhalten.',

  summaryCode: 'Code',
  summaryClient: 'Anwendung',
  summaryDevice: 'Gerätename',
  expiresIn: 'Der Code läuft in etwa {minutes} Min. ab, um {time}.',
  changeCode: 'Einen anderen Code verwenden',
  signInIntro: 'Melden Sie sich an, um genau zu sehen, was angefragt wird. Nichts wird freigegeben, bevor Sie „Freigeben“ wählen.',
  ssoHeading: 'Mit Ihrem Firmenkonto anmelden',
  ssoButton: 'Mit {connector} anmelden',
  emailLabel: 'Oder geben Sie Ihre geschäftliche E-Mail-Adresse ein',
  emailHint: 'Die Domain Ihrer E-Mail-Adresse wählt die Anmeldung Ihrer Firma.',
  emailButton: 'Mit E-Mail fortfahren',
  emailRequired: 'Geben Sie Ihre geschäftliche E-Mail-Adresse ein, zum Beispiel sie@example.com.',
  localHeading: 'Anmelden',
  localHeadingWithSso: 'Oder mit einem lokalen Konto anmelden',
  directoryHeading: 'Mit Ihrem {connector}-Konto anmelden',
  usernameLabel: 'Benutzername',
  passwordLabel: 'Passwort',
  signInButton: 'Anmelden',
  wrongPassword: 'Unbekannter Benutzer oder falsches Passwort.',
  signInEnded:
    'Ihre Anmeldung ist beendet: Sie gilt einige Minuten und für eine Entscheidung. Nichts wurde freigegeben. Geben Sie den Code erneut ein, um fortzufahren.',
  signInExpired: 'Ihre Anmeldung ist abgelaufen, bevor Sie entschieden haben. Nichts wurde freigegeben. Melden Sie sich erneut an, um fortzufahren.',

  consentTitle: 'Dieses Gerät freigeben?',
  consentLead: '{client} möchte von dem unten beschriebenen Gerät aus in Ihrem Namen handeln.',
  signedInAs: 'Angemeldet als',
  identity: '{name} ({email})',
  withOrganization: '{value}, {organization}',
  requestHeading: 'Wer Zugriff anfragt',
  applicationLabel: 'Anwendung',
  deviceLabel: 'Gerätename',
  deviceUnnamed: 'Kein Name angegeben',
  codeRowLabel: 'Code',
  originHeading: 'Wo und wann die Anfrage begann',
  ipLabel: 'IP-Adresse',
  agentLabel: 'Software',
  timeLabel: 'Begonnen',
  startedAt: '{time} ({relative})',
  justNow: 'gerade eben',
  unknown: 'Unbekannt',
  selfDescribed: 'Namen und Softwarebeschreibung hat das Gerät selbst gewählt; sie beweisen nichts.',
  scopesHeading: 'Wenn Sie freigeben, kann es',
  sensitiveMarker: 'Ändert Daten',
  sensitiveNote: 'Mit „Ändert Daten“ markierte Berechtigungen erlauben ihm, in Ihrem Namen Dinge zu ändern oder zu verwalten, nicht nur zu lesen.',
  withheldHeading: 'Es hat auch Folgendes angefragt, das Ihr Konto womöglich nicht vergeben darf; das erhält es nicht:',
  ipWarningTitle: 'Diese Anfrage kam aus einem anderen Netzwerk',
  ipWarningDetail: 'Das Gerät hat diesen Code von {requestIp} angefragt, Sie verbinden sich aber von {approvingIp}.',
  ipWarningAdvice:
    'Bei einem entfernten Server, einem Container oder einem VPN ist das normal. Wenn Sie nicht sicher sind, dass Sie dies selbst gestartet haben, lehnen Sie ab.',
  approveOnly: 'Geben Sie nur frei, wenn Sie dies auf einem Gerät gestartet haben, das Sie besitzen.',
  approveOnlyDetail:
    'Wenn Ihnen jemand diesen Code geschickt oder Sie gebeten hat, ihn einzugeben, lehnen Sie ab: Eine Freigabe gäbe dieser Person Zugriff auf Ihr Konto.',
  approveButton: 'Freigeben',
  denyButton: 'Ablehnen',
  decideBefore: 'Entscheiden Sie vor {time}; danach müssen Sie sich erneut anmelden.',

  approvedTitle: 'Gerät freigegeben',
  approvedDetail: '{client} auf „{device}“ kann jetzt in Ihrem Namen handeln.',
  approvedDetailUnnamed: '{client} kann jetzt in Ihrem Namen handeln.',
  approvedNext: 'Sie können diesen Tab schließen und zu Ihrem Gerät zurückkehren: Es schließt die Anmeldung in wenigen Sekunden selbst ab.',
  deniedTitle: 'Anfrage abgelehnt',
  deniedDetail: 'Das Gerät hat nichts erhalten.',
  deniedNext:
    'Sie können diesen Tab schließen. Wenn Sie das Gerät doch verbinden wollten, starten Sie dort neu, um einen neuen Code zu erhalten. Wenn Sie diese Anfrage nicht gestartet haben, informieren Sie Ihr Sicherheitsteam: Jemand versucht vielleicht, in Ihr Konto zu gelangen.',
  myDevicesLink: 'Geräte ansehen und widerrufen, die in Ihrem Namen handeln können',
  expiredTitle: 'Dieser Code ist abgelaufen',
  expiredDetail: 'Er kann nicht mehr verwendet werden: Ein Code gilt einige Minuten und nur einmal. Nichts wurde freigegeben.',
  expiredNext: 'Starten Sie auf Ihrem Gerät neu, um einen neuen Code zu erhalten, und geben Sie ihn dann auf dieser Seite ein.',
  newCodeLink: 'Neuen Code eingeben',
  errorTitle: 'Etwas ist schiefgelaufen',
  errorNext: 'Nichts wurde freigegeben, und Ihr Gerät wartet weiter. Versuchen Sie es erneut; wenn es weiter scheitert, starten Sie auf Ihrem Gerät neu.',
  tryAgainButton: 'Erneut versuchen',
  startOverLink: 'Von vorn beginnen',

  tooManySeconds: 'In kurzer Zeit wurden zu viele Codes versucht. Bitte warten Sie {seconds} Sekunden und versuchen Sie es dann erneut.',
  tooManyMinutes: 'In kurzer Zeit wurden zu viele Codes versucht. Bitte warten Sie etwa {minutes} Minuten und versuchen Sie es dann erneut.',
  unavailable: 'Der Dienst ist gerade nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.',
  unreachable: 'Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
  unexpected: 'Das hat nicht funktioniert.',

  signInFailedTitle: 'Anmeldung fehlgeschlagen',
  signInFailedLead: 'Ihre Anmeldung konnte nicht abgeschlossen werden. Die Meldung des Servers (auf Englisch):',
  signInFailedDevice: 'Nichts wurde freigegeben. Wenn Sie ein Gerät freigeben wollten, wartet es weiter:',
  signInFailedDeviceLink: 'Code erneut eingeben',
  signInFailedConsole: 'Wenn Sie sich an der Konsole anmelden wollten:',
  signInFailedConsoleLink: 'erneut an der Konsole anmelden',
};

/** The page's languages, by primary language subtag; English first, the fallback. */
export const PAGE_CATALOG: Readonly<Record<string, PageStrings>> = { en: PAGE_STRINGS, de: PAGE_STRINGS_DE };
export const FALLBACK_LOCALE = 'en';

/** Fills `{name}` placeholders; the page script has the same function. */
export function fillString(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key] : whole));
}
