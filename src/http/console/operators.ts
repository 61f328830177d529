import type { Router } from 'express';
import { PASSWORD_MIN, type Operator, type Role } from '../../domain/operator';
import type { Operators } from '../../domain/operators';
import { escapeHtml as e } from '../../lib/html';
import { allowPage, sendConsolePage } from './routes';

const ROLES: Role[] = ['viewer', 'editor', 'admin'];

/**
 * Operators, for admins: the list with each one's role and state, a form to add one, and per row a role change and a
 * disable or enable button. The page only reads; operators.js makes the changes through /api/admin/operators, where
 * the route table, the last-admin rule and the audit log apply, and reloads the page after each.
 */
export function operatorsSection(deps: { operators: Operators; siteName: string }) {
  const { operators, siteName } = deps;
  return (r: Router): void => {
    r.get('/admin/operators', async (_req, res) => {
      if (!allowPage(res, siteName, 'admin')) return;
      const all = await operators.list();
      const options = (current: Role) =>
        ROLES.map((role) => `<option value="${role}"${role === current ? ' selected' : ''}>${role}</option>`).join('');
      const rows = all.map((o) => row(o, options(o.role))).join('\n');
      sendConsolePage(res, siteName, {
        title: 'Operators',
        section: 'operators',
        scripts: ['operators.js'],
        body: `<div class="table-wrap"><table id="operators"><thead><tr><th scope="col">Email</th><th scope="col">Name</th>
<th scope="col">Role</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Access</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<h2 id="new-heading">Add an operator</h2>
<form id="operator-form" aria-labelledby="new-heading" novalidate>
<div class="field"><label for="f-email">Email</label><input type="email" id="f-email" name="email" required autocomplete="off" aria-describedby="err-email">
<p class="field-error" id="err-email" hidden></p></div>
<div class="field"><label for="f-name">Name</label><input type="text" id="f-name" name="name" autocomplete="off" aria-describedby="hint-name err-name">
<p class="hint" id="hint-name">Optional: the part of the email before the @ if left empty.</p><p class="field-error" id="err-name" hidden></p></div>
<div class="field"><label for="f-role">Role</label><select id="f-role" name="role">${options('editor')}</select>
<p class="field-error" id="err-role" hidden></p></div>
<div class="field"><label for="f-password">Password</label><input type="password" id="f-password" name="password" required minlength="${PASSWORD_MIN}" autocomplete="new-password" aria-describedby="hint-password err-password">
<p class="hint" id="hint-password">At least ${PASSWORD_MIN} characters. Pass it on to them privately.</p><p class="field-error" id="err-password" hidden></p></div>
<p class="field-error" id="err-form" hidden></p>
<div class="actions"><button type="submit">Add operator</button></div></form>`,
      });
    });
  };
}

function row(o: Operator, roleOptions: string): string {
  const id = e(o.id);
  const label = e(o.email);
  return `<tr data-id="${id}" data-email="${label}"><td>${label}</td><td>${e(o.name)}</td>
<td><form class="role-form"><select id="role-${id}" name="role" aria-label="Role of ${label}">${roleOptions}</select>
<button type="submit" aria-label="Change role of ${label}">Change</button></form></td>
<td>${o.disabled ? '<span class="badge">disabled</span>' : 'enabled'}</td>
<td><time datetime="${e(o.createdAt)}">${e(o.createdAt.slice(0, 10))}</time></td>
<td>${
    o.disabled
      ? `<button type="button" class="enable" aria-label="Enable ${label}">Enable</button>`
      : `<button type="button" class="disable" aria-label="Disable ${label}">Disable</button>`
  }</td></tr>`;
}
