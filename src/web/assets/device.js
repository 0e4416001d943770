'use strict';

(function () {
  var $ = function (id) { return document.getElementById(id); };

  function show(id) {
    ['enter', 'consent', 'result'].forEach(function (section) {
      var element = $(section);
      if (element) element.hidden = section !== id;
    });
  }

  function say(id, text) {
    $(id).textContent = text;
  }

  function errorText(body, fallback) {
    return (body && body.error_description) || fallback;
  }

  var form = $('login-form');
  if (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      say('login-error', '');
      fetch(form.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(new FormData(form)).toString(),
        credentials: 'same-origin',
        redirect: 'manual',
      }).then(function (response) {
        if (response.type === 'opaqueredirect' || response.status === 303) {
          window.location.assign('/device?sso_verified=1');
          return;
        }
        return response.json().then(function (body) {
          say('login-error', errorText(body, 'Sign-in failed.'));
        });
      }).catch(function () {
        say('login-error', 'The server cannot be reached. Check your connection and try again.');
      });
    });
  }

  if (!document.body.hasAttribute('data-verified')) return;

  var context;
  fetch('/oauth/device/approval-context', { credentials: 'same-origin' })
    .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
    .then(function (reply) {
      if (!reply.ok) {
        show('result');
        say('result-text', errorText(reply.body, 'Your sign-in has expired.') + ' Enter the code again.');
        return;
      }
      context = reply.body;
      say('client-name', context.client.name);
      say('device-label', context.device_label || 'not named');
      say('user-code', context.user_code);
      say('identity', context.subject.name + ' <' + context.subject.email + '>');
      say('origin', context.request.ip + ' · ' + context.request.user_agent + ' · ' + new Date(context.request.created_at).toLocaleString());
      var list = $('scopes');
      context.scopes.forEach(function (scope) {
        var item = document.createElement('li');
        item.textContent = scope.description + ' (' + scope.name + ')';
        list.appendChild(item);
      });
      $('ip-warning').hidden = context.same_ip;
      show('consent');
    });

  function decide(decision) {
    fetch('/oauth/device/' + decision, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': context.csrf_token },
      body: JSON.stringify({ user_code: context.user_code }),
    })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (reply) {
        show('result');
        if (!reply.ok) say('result-text', errorText(reply.body, 'That did not work.'));
        else if (decision === 'approve') say('result-text', 'Device approved. You can close this tab and return to your device.');
        else say('result-text', 'Request denied. Nothing was given to the device. You can close this tab.');
      });
  }

  $('approve').addEventListener('click', function () { decide('approve'); });
  $('deny').addEventListener('click', function () { decide('deny'); });
})();
