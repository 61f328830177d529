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
    // A field sent more than once (the newsletter boxes, with their empty companion) becomes a list, as the
    // form post makes it one.
    new FormData(form).forEach(function (v, k) {
      data[k] = k in data ? [].concat(data[k], v) : v;
    });
    data.consent = form.elements.consent.checked;
    var names = [];
    form.querySelectorAll('input[name=newsletters][data-name]').forEach(function (input) {
      if (input.type === 'hidden' || input.checked) names.push(input.getAttribute('data-name'));
    });
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
              var to = names.length ? ' to ' + andList(names) : '';
              show('ok', 'Almost done: check your inbox and click the link to confirm your subscription' + to + '.');
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
  function andList(items) {
    return items.length <= 1 ? items.join('') : items.slice(0, -1).join(', ') + ' and ' + items[items.length - 1];
  }
})();
