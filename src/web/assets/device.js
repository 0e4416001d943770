'use strict';

// The /device page in steps: code → sign-in → consent → result. Every word
// comes from the strings table the server puts in <body data-strings>; every
// value from the server is written with textContent, never as HTML.
(() => {
  const T = JSON.parse(document.body.getAttribute('data-strings') || '{}');
  const SENSITIVE = new Set(JSON.parse(document.body.getAttribute('data-sensitive-scopes') || '[]'));
  const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
  const PAGES = ['loading', 'enter', 'consent', 'approved', 'denied', 'expired', 'error'];
  const $ = (id) => document.getElementById(id);
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole));
  const say = (id, text) => {
    $(id).textContent = text;
  };

  /** What a person typed → the canonical code (the server reads it back the same way). */
  const canonical = (text) => String(text).toUpperCase().replace(/[\s\-\u2010-\u2015]/g, '');
  const isCode = (code) => code.length === 8 && Array.from(code).every((letter) => ALPHABET.includes(letter));
  const displayed = (code) => (code.length > 4 ? `${code.slice(0, 4)}-${code.slice(4)}` : code);

  function showPage(id, focusHeading) {
    for (const name of PAGES) {
      const element = $(name);
      if (element) element.hidden = name !== id;
    }
    const heading = $(id).querySelector('h1');
    if (heading) {
      document.title = `${heading.textContent} · ${document.querySelector('.operator-name').textContent}`;
      if (focusHeading) heading.focus();
    }
  }

  /** fetch, read the JSON body and Retry-After; rejects only when the server cannot be reached. */
  async function call(path, init) {
    const response = await fetch(path, Object.assign({ credentials: 'same-origin', redirect: 'manual' }, init));
    let body = {};
    try {
      body = (await response.json()) || {};
    } catch {
      // an empty or non-JSON body
    }
    return { status: response.status, ok: response.ok, redirected: response.type === 'opaqueredirect', body, retryAfter: Number(response.headers.get('Retry-After')) || 0 };
  }

  /** A refusal in words a person can act on; the server's own description when the page has none better. */
  function problem(reply) {
    if (reply.status === 429) {
      const seconds = reply.retryAfter || 60;
      return seconds < 120 ? fill(T.tooManySeconds, { seconds }) : fill(T.tooManyMinutes, { minutes: Math.ceil(seconds / 60) });
    }
    if (reply.status >= 500) return T.unavailable;
    return reply.body.error_description || T.unexpected;
  }

  function busy(buttons, on) {
    for (const button of buttons) {
      if (!button) continue;
      button.disabled = on;
      button.setAttribute('aria-busy', String(on));
    }
  }

  // ---- Step 1 and 2: the code, then signing in --------------------------------------------------

  const codeInput = $('user_code');
  const continueButton = $('continue');
  const ssoForm = $('sso-form');
  const passwordForms = document.querySelectorAll('form.password-form');
  const email = $('email');
  let step = 'code';
  let code = '';

  function codeError(text) {
    say('user_code-error', text);
    codeInput.setAttribute('aria-invalid', String(Boolean(text)));
    if (text) codeInput.focus();
  }

  function showStep(next) {
    step = next;
    for (const element of document.querySelectorAll('.sign-in')) element.hidden = next !== 'sign-in';
    for (const element of document.querySelectorAll('.code-field')) element.hidden = next !== 'code' || element.classList.contains('code-copy');
    $('code-summary').hidden = next !== 'sign-in';
  }

  function showSignIn(checked, lookup) {
    code = checked;
    codeInput.value = displayed(checked);
    for (const copy of document.querySelectorAll('.code-copy input')) copy.value = displayed(checked);
    say('summary-code', displayed(checked));
    say('summary-client', lookup.client_name);
    say('summary-device', lookup.device_label || T.deviceUnnamed);
    const expiry = new Date(Date.now() + lookup.expires_in * 1000);
    say('summary-expiry', fill(T.expiresIn, { minutes: Math.max(1, Math.ceil(lookup.expires_in / 60)), time: clock(expiry) }));
    showStep('sign-in');
    $('code-summary').focus();
  }

  async function checkCode() {
    if (continueButton.disabled) return;
    const typed = canonical(codeInput.value);
    codeError('');
    if (!isCode(typed)) return codeError(T.badCode);
    busy([continueButton], true);
    try {
      const reply = await call(`/oauth/device/lookup?user_code=${encodeURIComponent(typed)}`, { headers: { Accept: 'application/json' } });
      if (reply.ok && reply.body.valid) showSignIn(typed, reply.body);
      else codeError(reply.ok ? T.badCode : problem(reply));
    } catch {
      codeError(T.unreachable);
    } finally {
      busy([continueButton], false);
    }
  }

  /** Formats the code as it is typed (BCDF-GHJK), only while the caret is at the end so editing is never fought. */
  function formatCode() {
    const letters = canonical(codeInput.value);
    if (!/^[A-Z]{0,8}$/.test(letters)) return;
    if (codeInput.selectionStart !== codeInput.value.length) return;
    if (codeInput.value !== displayed(letters)) codeInput.value = displayed(letters);
  }

  function startSso(params, button) {
    busy([button], true);
    window.location.assign(`/oauth/device/sso/initiate?${new URLSearchParams(Object.assign({ user_code: code }, params))}`);
  }

  function signInWithEmail(button) {
    say('email-error', '');
    email.removeAttribute('aria-invalid');
    const address = email.value.trim();
    if (!address || !email.checkValidity()) {
      say('email-error', T.emailRequired);
      email.setAttribute('aria-invalid', 'true');
      email.focus();
      return;
    }
    startSso({ email: address }, button);
  }

  /** A local or directory (LDAP) sign-in; each form's fields carry its prefix. */
  async function signInWithPassword(form) {
    const field = (name) => $(form.dataset.prefix + name);
    const button = form.querySelector('button[type=submit]');
    say(form.dataset.prefix + 'login-error', '');
    busy([button], true);
    try {
      const reply = await call(form.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ user_code: code, username: field('username').value, password: field('password').value }).toString(),
      });
      if (reply.redirected || reply.status === 303) {
        window.location.assign('/device?sso_verified=1');
        return;
      }
      if (reply.body.error === 'invalid_user_code') {
        showStep('code');
        codeError(T.badCode);
      } else {
        say(form.dataset.prefix + 'login-error', reply.body.error === 'invalid_credentials' ? T.wrongPassword : problem(reply));
        field('password').focus();
      }
    } catch {
      say(form.dataset.prefix + 'login-error', T.unreachable);
    }
    busy([button], false);
  }

  if (codeInput) {
    for (const element of document.querySelectorAll('.code-copy')) element.hidden = true;
    codeInput.setAttribute('spellcheck', 'false');
    codeInput.setAttribute('aria-describedby', 'user_code-hint user_code-error');
    continueButton.hidden = false;
    showStep('code');
    formatCode();

    codeInput.addEventListener('input', formatCode);
    codeInput.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      checkCode();
    });
    continueButton.addEventListener('click', checkCode);
    $('change-code').addEventListener('click', () => {
      showStep('code');
      codeInput.focus();
      codeInput.select();
    });

    if (ssoForm) {
      ssoForm.addEventListener('submit', (event) => {
        event.preventDefault();
        if (step === 'code') return void checkCode();
        const submitter = event.submitter;
        if (submitter && submitter.name === 'connector') startSso({ connector: submitter.value }, submitter);
        else signInWithEmail(submitter);
      });
      // Enter in the email field means "continue with email", not the form's first button (a connector).
      email.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter') return;
        event.preventDefault();
        signInWithEmail(ssoForm.querySelector('button:not([name])'));
      });
    }
    for (const form of passwordForms) {
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        if (step === 'code') checkCode();
        else signInWithPassword(form);
      });
    }
    if (!document.body.hasAttribute('data-verified')) codeInput.focus();
  }

  // ---- Step 3 and 4: consent and its result -----------------------------------------------------

  let context;

  /** A time of day in the browser's time zone, named (12:40 UTC, 13:40 MEZ): the device may sit in another one. */
  function clock(date) {
    return new Intl.DateTimeFormat(T.lang, { hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(date);
  }

  function formatTime(iso, withRelative) {
    const date = new Date(iso);
    const time = new Intl.DateTimeFormat(T.lang, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(date);
    if (!withRelative) return time;
    const minutes = Math.max(0, Math.round((Date.now() - date.getTime()) / 60000));
    const relative = minutes < 1 ? T.justNow : new Intl.RelativeTimeFormat(T.lang).format(-minutes, 'minute');
    return fill(T.startedAt, { time, relative });
  }

  function withOrganization(value, organization) {
    return organization ? fill(T.withOrganization, { value, organization: organization.name }) : value;
  }

  function showConsent(body) {
    context = body;
    say('consent-lead', fill(T.consentLead, { client: body.client.name }));
    say('identity', withOrganization(fill(T.identity, { name: body.subject.name, email: body.subject.email }), body.subject.organization));
    say('client-name', withOrganization(body.client.name, body.client.organization));
    say('device-label', body.device_label || T.deviceUnnamed);
    say('user-code', body.user_code);
    say('request-ip', body.request.ip || T.unknown);
    say('request-agent', body.request.user_agent || T.unknown);
    say('request-time', formatTime(body.request.created_at, true));
    listScopes($('scopes'), body.scopes);
    $('sensitive-note').hidden = !body.scopes.some((scope) => SENSITIVE.has(scope.name));
    const withheld = body.withheld_scopes || [];
    listScopes($('withheld-scopes'), withheld);
    $('withheld').hidden = withheld.length === 0;
    $('ip-warning').hidden = body.same_ip !== false;
    if (body.same_ip === false) say('ip-warning-detail', fill(T.ipWarningDetail, { requestIp: body.request.ip, approvingIp: body.approving_ip }));
    say('consent-expiry', fill(T.decideBefore, { time: clock(new Date(body.expires_at)) }));
    showPage('consent', true);
  }

  function listScopes(list, scopes) {
    list.textContent = '';
    for (const scope of scopes) {
      const item = document.createElement('li');
      const description = document.createElement('span');
      description.textContent = scope.description;
      const name = document.createElement('code');
      name.textContent = scope.name;
      if (SENSITIVE.has(scope.name)) {
        const marker = document.createElement('strong');
        marker.className = 'sensitive-marker';
        marker.textContent = T.sensitiveMarker;
        item.className = 'sensitive';
        item.append(marker, ' ');
      }
      item.append(description, ' ', name);
      list.appendChild(item);
    }
  }

  function showError(text) {
    say('error-detail', text);
    showPage('error', true);
  }

  /** Back to the code, with a notice saying why; the URL no longer claims a sign-in. */
  function restart(notice) {
    window.history.replaceState(null, '', '/device');
    say('enter-notice', notice);
    $('enter-notice').hidden = false;
    showPage('enter', false);
  }

  function finished(page) {
    window.history.replaceState(null, '', '/device');
    showPage(page, true);
  }

  /** The approval grant ended (it never outlives the code): an expired code, or only an expired sign-in? */
  async function signInEnded() {
    let lookup;
    try {
      lookup = await call(`/oauth/device/lookup?user_code=${encodeURIComponent(context.user_code)}`, { headers: { Accept: 'application/json' } });
    } catch {
      return showError(T.unreachable);
    }
    if (lookup.ok && lookup.body.valid) {
      restart(T.signInExpired);
      showSignIn(canonical(context.user_code), lookup.body);
    } else if (lookup.ok) {
      finished('expired');
    } else {
      showError(problem(lookup));
    }
  }

  async function decide(decision) {
    const buttons = [$('approve'), $('deny')];
    if (buttons[0].disabled) return;
    busy(buttons, true);
    let reply;
    try {
      reply = await call(`/oauth/device/${decision}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': context.csrf_token },
        body: JSON.stringify({ user_code: context.user_code }),
      });
    } catch {
      busy(buttons, false);
      return showError(T.unreachable);
    }
    busy(buttons, false);
    if (reply.ok && decision === 'approve') {
      const values = { client: context.client.name, device: context.device_label || '' };
      say('approved-detail', fill(context.device_label ? T.approvedDetail : T.approvedDetailUnnamed, values));
      finished('approved');
    } else if (reply.ok) {
      finished('denied');
    } else if (reply.status === 401) {
      await signInEnded();
    } else if (reply.body.error === 'invalid_user_code') {
      finished('expired');
    } else {
      showError(problem(reply));
    }
  }

  async function loadConsent() {
    let reply;
    try {
      reply = await call('/oauth/device/approval-context', { headers: { Accept: 'application/json' } });
    } catch {
      return showError(T.unreachable);
    }
    if (reply.ok) showConsent(reply.body);
    else if (reply.status === 401) restart(T.signInEnded);
    else if (reply.body.error === 'invalid_user_code') finished('expired');
    else showError(problem(reply));
    if (!reply.ok && reply.status === 401 && codeInput) codeInput.focus();
  }

  // Back from an identity provider through the history cache: the buttons pressed on the way out work again.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) busy(document.querySelectorAll('button'), false);
  });

  $('approve').addEventListener('click', () => decide('approve'));
  $('deny').addEventListener('click', () => decide('deny'));
  $('retry').addEventListener('click', () => window.location.reload());

  if (document.body.hasAttribute('data-verified')) loadConsent();
})();
