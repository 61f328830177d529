// Progressive enhancement: the form works without this file (a plain POST and a 303 to /thanks).
(function () {
  var form = document.getElementById('signup');
  if (!form || !window.fetch) return;
  var box = document.getElementById('message');
  function show(kind, text) {
    box.className = 'message ' + kind;
    box.textContent = text;
    box.hidden = false;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var data = {};
    new FormData(form).forEach(function (v, k) {
      data[k] = v;
    });
    data.consent = form.elements.consent.checked;
    var button = form.querySelector('button');
    button.disabled = true;
    fetch(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(data),
    })
      .then(function (res) {
        return res
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (res.status === 202) {
              form.hidden = true;
              show('ok', 'Almost done: check your inbox and click the link to confirm your subscription.');
            } else {
              show('error', (body.error && body.error.message) || 'Something went wrong. Please try again.');
            }
          });
      })
      .catch(function () {
        show('error', 'Network error. Please try again.');
      })
      .finally(function () {
        button.disabled = false;
      });
  });
})();
