/**
 * The portal's stylesheet, served at `/assets/portal.css` (never inline: the CSP allows styles from 'self' only).
 * Quiet and legible: system fonts, one muted accent, plenty of room around the viewer.
 *
 * @example
 * routes.get('/assets/portal.css', (c) => c.body(PORTAL_CSS, 200, { 'Content-Type': 'text/css' }));
 */
export const PORTAL_CSS = `
:root {
  --bg: #f6f7f9;
  --surface: #ffffff;
  --text: #1d2430;
  --muted: #5b6473;
  --line: #dde1e7;
  --accent: #2c5d8f;
  --accent-strong: #214a73;
  --notice: #fff8e6;
  --notice-line: #ecd9a6;
  --error: #a4262c;
  --radius: 6px;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); }
a:hover { color: var(--accent-strong); }
.top {
  display: flex;
  align-items: center;
  gap: 1.5rem;
  padding: 0.75rem 1.5rem;
  background: var(--surface);
  border-bottom: 1px solid var(--line);
}
.brand { font-weight: 600; color: var(--text); text-decoration: none; letter-spacing: 0.01em; }
.top nav { flex: 1; }
.top nav a { color: var(--muted); text-decoration: none; }
.top nav a:hover { color: var(--text); }
.account { display: flex; align-items: center; gap: 0.75rem; color: var(--muted); font-size: 0.9rem; }
.account form { margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; font-weight: 600; margin: 0 0 0.5rem; }
h2 { font-size: 1.1rem; font-weight: 600; margin: 2rem 0 0.75rem; }
.lede { color: var(--muted); max-width: 44rem; margin: 0 0 1.5rem; }
.crumbs { font-size: 0.9rem; color: var(--muted); margin-bottom: 0.75rem; }
.tag {
  display: inline-block;
  font-size: 0.8rem;
  font-weight: 500;
  color: var(--muted);
  border: 1px solid var(--line);
  border-radius: 999px;
  padding: 0 0.5rem;
  vertical-align: middle;
}
.datasets { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.75rem; }
.datasets li {
  background: var(--surface);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  padding: 1rem 1.25rem;
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 0.5rem 1rem;
}
.datasets .name { font-weight: 600; font-size: 1.05rem; }
.datasets .access { color: var(--muted); font-size: 0.9rem; flex-basis: 100%; }
.card {
  background: var(--surface);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  padding: 1.5rem;
}
.narrow { max-width: 24rem; margin: 2rem auto; }
.stack { display: grid; gap: 1rem; }
label { display: grid; gap: 0.35rem; font-size: 0.9rem; font-weight: 500; }
input[type="email"], input[type="password"], input[type="text"], input[type="number"] {
  font: inherit;
  padding: 0.5rem 0.65rem;
  border: 1px solid var(--line);
  border-radius: var(--radius);
  background: #fff;
}
input:focus-visible, button:focus-visible, a:focus-visible {
  outline: 2px solid var(--accent);
  outline-offset: 2px;
}
button {
  font: inherit;
  cursor: pointer;
  border-radius: var(--radius);
  border: 1px solid var(--accent);
  background: var(--accent);
  color: #fff;
  padding: 0.5rem 1rem;
}
button:hover { background: var(--accent-strong); }
button.quiet {
  background: transparent;
  color: var(--muted);
  border-color: var(--line);
  padding: 0.25rem 0.75rem;
  font-size: 0.9rem;
}
button.quiet:hover { color: var(--text); border-color: var(--muted); }
.error { color: var(--error); margin: 0; }
.notice {
  background: var(--notice);
  border: 1px solid var(--notice-line);
  border-radius: var(--radius);
  padding: 0.75rem 1rem;
  margin: 0 0 1rem;
}
.notice p { margin: 0; }
.access-line { color: var(--muted); margin: 0 0 1rem; }
.viewer {
  background: var(--surface);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  padding: 1rem;
  min-height: 24rem;
}
.viewer-status { color: var(--muted); margin: 0; }
.top nav { display: flex; gap: 1rem; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: 0.75rem 1rem; display: grid; gap: 0.4rem; }
legend { font-size: 0.9rem; font-weight: 500; padding: 0 0.25rem; }
label.check { display: flex; gap: 0.5rem; align-items: baseline; font-weight: 400; }
table { width: 100%; border-collapse: collapse; background: var(--surface); font-size: 0.9rem; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
td form { margin: 0; }
code.secret { display: block; word-break: break-all; font-size: 0.95rem; padding: 0.5rem; background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); margin: 0.5rem 0; }
footer { max-width: 72rem; margin: 0 auto; padding: 0 1.5rem 2rem; color: var(--muted); font-size: 0.85rem; }
`;
