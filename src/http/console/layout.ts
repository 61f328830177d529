import { escapeHtml as e } from '../../lib/html';
import type { Role } from '../../domain/operator';

/** Who a console page is for: shown in the header, and what the navigation offers. */
export interface ConsoleViewer {
  name: string;
  role: Role;
  /** The session's CSRF token: page scripts send it as X-CSRF-Token with every change (see assets/api.js). */
  csrfToken: string;
}

/** The sections of the console, in the navigation's order; `least` hides a section from roles below it. */
export const SECTIONS = [
  { id: 'dashboard', path: '/admin', label: 'Dashboard', least: 'viewer' },
  { id: 'newsletters', path: '/admin/newsletters', label: 'Newsletters', least: 'viewer' },
  { id: 'compose', path: '/admin/compose', label: 'Compose', least: 'editor' },
  { id: 'campaigns', path: '/admin/campaigns', label: 'Campaigns', least: 'viewer' },
  { id: 'audience', path: '/admin/audience', label: 'Audience', least: 'viewer' },
  { id: 'audit', path: '/admin/audit', label: 'Audit log', least: 'viewer' },
  { id: 'operators', path: '/admin/operators', label: 'Operators', least: 'admin' },
] as const satisfies readonly { id: string; path: string; label: string; least: Role }[];

export type SectionId = (typeof SECTIONS)[number]['id'];

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** One console page. */
export interface ConsolePage {
  title: string;
  /** The section the navigation marks as current. */
  section: SectionId;
  /** The page's HTML, already escaped where it holds data. */
  body: string;
  /** Scripts of this page, by file name under /admin/assets/ (ES modules; the CSP allows only same-origin script). */
  scripts?: string[];
  /** Extra stylesheets under /admin/assets/ (a chart library's, say). */
  styles?: string[];
}

/**
 * The frame of every console page: a skip link, the site's name, the navigation for the viewer's role, who is signed
 * in and a sign-out form (plain HTML, so it works without script), then the page. Data the page's scripts need goes
 * in `data-` attributes of the body, never in inline script: the CSP refuses inline script.
 */
export function consolePage(siteName: string, viewer: ConsoleViewer, page: ConsolePage): string {
  const nav = SECTIONS.filter((s) => RANK[viewer.role] >= RANK[s.least])
    .map((s) => `<li><a href="${s.path}"${s.id === page.section ? ' aria-current="page"' : ''}>${e(s.label)}</a></li>`)
    .join('');
  const styles = ['console.css', ...(page.styles ?? [])]
    .map((f) => `<link rel="stylesheet" href="/admin/assets/${e(f)}">`)
    .join('\n');
  const scripts = (page.scripts ?? [])
    .map((f) => `<script type="module" src="/admin/assets/${e(f)}"></script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="csrf-token" content="${e(viewer.csrfToken)}">
<title>${e(page.title)} · ${e(siteName)} console</title>
${styles}
${scripts}
</head>
<body data-role="${e(viewer.role)}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="brand">${e(siteName)} · console</div>
  <nav aria-label="Console"><ul>${nav}</ul></nav>
  <form class="who" method="post" action="/admin/sign-out">
    <span>${e(viewer.name)} <span class="role">(${e(viewer.role)})</span></span>
    <input type="hidden" name="_csrf" value="${e(viewer.csrfToken)}">
    <button type="submit" class="link">Sign out</button>
  </form>
</header>
<main id="main" tabindex="-1">
<h1>${e(page.title)}</h1>
<div id="status" class="status" role="status" aria-live="polite"></div>
${page.body}
</main>
</body>
</html>`;
}
