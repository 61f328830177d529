// Erasing a person: the button wakes only once the address is typed exactly, so a slip of the mouse erases nobody.
import { api, attempt, say } from './api.js';

const form = document.getElementById('erase-form');
const email = form.dataset.email;
const input = document.getElementById('erase-confirm');
const button = document.getElementById('erase-button');

input.addEventListener('input', () => {
  button.disabled = input.value.trim().toLowerCase() !== email.toLowerCase();
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (button.disabled) return;
  button.disabled = true;
  const done = await attempt(async () => {
    await api(`/subscribers/${encodeURIComponent(email)}`, { method: 'DELETE' });
    return true;
  });
  if (!done) return void (button.disabled = false);
  say(`${email} was erased.`);
  form.replaceWith(Object.assign(document.createElement('p'), { textContent: 'Erased.' }));
  setTimeout(() => location.assign('/admin/audience'), 1500);
});
