// The operators page: adds an operator, changes a role, disables or enables one, through /api/admin/operators, and
// reloads the page after each change so the table shows the stored state. Errors go to the live region, and beside
// the field they name.
import { api, ApiError, attempt, say } from './api.js';

const form = document.getElementById('operator-form');
const value = (name) => form.elements.namedItem(name)?.value ?? '';

/** After a reload the message of the change is still shown in the live region. */
const done = sessionStorage.getItem('operators-done');
if (done) {
  sessionStorage.removeItem('operators-done');
  say(done);
}
function reloadSaying(message) {
  sessionStorage.setItem('operators-done', message);
  location.reload();
}

function clearErrors() {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** The field an error of the API is about: from its issues, else from its code. */
function fieldsOf(err) {
  const issues = err.details?.issues ?? [];
  if (issues.length)
    return issues.map((i) => ({ field: String(i.field ?? 'form'), message: `${i.field} ${i.message}` }));
  const byCode = { invalid_password: 'password', operator_exists: 'email', invalid_email: 'email' };
  return [{ field: byCode[err.code] ?? 'form', message: err.message }];
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const body = { email: value('email').trim(), role: value('role'), password: value('password') };
  const name = value('name').trim();
  if (name) body.name = name;
  try {
    const created = await api('/operators', { method: 'POST', body });
    reloadSaying(`Added ${created.email} as ${created.role}.`);
  } catch (err) {
    if (!(err instanceof ApiError)) return void attempt(() => Promise.reject(err));
    say(err.message, 'error');
    let first;
    for (const { field, message } of fieldsOf(err)) {
      const p = document.getElementById(`err-${field}`) ?? document.getElementById('err-form');
      p.textContent = message;
      p.hidden = false;
      const input = document.getElementById(`f-${field}`);
      input?.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
    first?.focus();
  }
});

for (const tr of document.querySelectorAll('#operators tbody tr')) {
  const { id, email } = tr.dataset;
  tr.querySelector('.role-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const select = event.currentTarget.elements.namedItem('role');
    const role = select.value;
    const saved = await attempt(() =>
      api(`/operators/${encodeURIComponent(id)}/role`, { method: 'PUT', body: { role } }),
    );
    if (saved) return reloadSaying(`${email} is now ${saved.role}.`);
    // Refused: the select goes back to the stored role, so the row does not show a role the operator lacks.
    select.value = [...select.options].find((o) => o.defaultSelected)?.value ?? select.value;
  });
  tr.querySelector('.disable')?.addEventListener('click', async () => {
    if (!confirm(`Disable ${email}? They are signed out at once and can no longer sign in or use their tokens.`))
      return;
    const saved = await attempt(() => api(`/operators/${encodeURIComponent(id)}/disable`, { method: 'POST' }));
    if (saved) reloadSaying(`${email} is disabled.`);
  });
  tr.querySelector('.enable')?.addEventListener('click', async () => {
    const saved = await attempt(() => api(`/operators/${encodeURIComponent(id)}/enable`, { method: 'POST' }));
    if (saved) reloadSaying(`${email} is enabled.`);
  });
}
