// The board's buttons: POST with the login cookie and the page's CSRF token. Served as a file, so
// the Content-Security-Policy can forbid every inline script.
(function () {
  'use strict';
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var message = document.getElementById('message');
  function say(text) {
    if (message) message.textContent = text;
  }

  document.querySelectorAll('button[data-action], button[data-post]').forEach(function (button) {
    button.addEventListener('click', function () {
      if (!csrfMeta) {
        say('Log in first.');
        return;
      }
      var body = {};
      if (button.dataset.action === 'update') {
        var text = window.prompt('Update for incident #' + button.dataset.incident);
        if (!text) return;
        body.message = text;
      }
      button.disabled = true;
      // data-post: a job action's renew or release; data-action: an incident's ack, update or resolve.
      var url = button.dataset.post || '/api/v1/incidents/' + button.dataset.incident + '/' + button.dataset.action;
      fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfMeta.content },
        body: JSON.stringify(body),
      })
        .then(function (res) {
          return res
            .json()
            .catch(function () {
              return {};
            })
            .then(function (answer) {
              if (res.ok) {
                window.location.reload();
                return;
              }
              say('Failed: ' + (answer.error || res.status));
              button.disabled = false;
            });
        })
        .catch(function (err) {
          say('Failed: ' + err);
          button.disabled = false;
        });
    });
  });

  // SLA lines are computed by the router (working hours): refresh them once a minute.
  if (document.querySelector('[data-sla]'))
    setTimeout(function () {
      window.location.reload();
    }, 60000);
})();
