/** The console's stylesheet, served from /console/console.css (the page's CSP allows only 'self' styles). */
export const CONSOLE_CSS = `/* Colours meet WCAG 2.2 AA on white: body text 15.9:1, hints 7.5:1, links and buttons at least 6.5:1. */
:root { --text: #1b1f24; --muted: #4b5563; --line: #6b7280; --blue: #1d4ed8; --red: #b91c1c; --focus: #111827; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--text); background: #eef0f3; margin: 0; }
header { background: #fff; border-bottom: 1px solid #d1d5db; padding: .6rem 1.5rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between; }
header .site { font-weight: 700; }
header form { display: inline; }
main { max-width: 72rem; margin: 1.5rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; box-shadow: 0 1px 3px #0003; }
main.narrow { max-width: 32rem; }
@media (max-width: 40rem) { main { margin: 0; border-radius: 0; padding: 1rem; } }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
a { color: var(--blue); }
label { display: block; margin-top: .75rem; font-weight: 600; }
input { display: block; width: 100%; padding: .55rem; font: inherit; border: 1px solid var(--line); border-radius: 4px; color: var(--text); background: #fff; }
button, a.button { display: inline-block; margin-top: .75rem; padding: .55rem 1.2rem; font: inherit; font-weight: 600; border-radius: 4px; border: 2px solid var(--blue); background: var(--blue); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--blue); }
button.danger { background: #fff; color: var(--red); border-color: var(--red); margin: 0; padding: .3rem .8rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.hint { color: var(--muted); font-size: .9rem; }
.notice { background: #eff6ff; border-left: 4px solid var(--blue); padding: .6rem .8rem; }
.error { background: #fef2f2; border-left: 4px solid var(--red); padding: .6rem .8rem; color: #7f1d1d; }
.connector { border-top: 1px solid #d1d5db; margin-top: 1.25rem; padding-top: .25rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: .95rem; }
.table-scroll { overflow-x: auto; margin-top: 1rem; }
.table-scroll table { margin-top: 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-bottom: 1px solid #d1d5db; overflow-wrap: break-word; }
th { background: #f8fafc; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0 1rem; align-items: end; }
dl.event { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dl.event dt { font-weight: 600; }
dl.event dd { margin: 0; overflow-wrap: anywhere; }
pre { margin: 0; white-space: pre-wrap; font-size: .9rem; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9rem; }
`;

/**
 * A table in a region that scrolls sideways when the window is narrower than
 * the table, instead of spilling out of the page; the region takes the focus
 * so keyboard users can scroll it too. `label` is HTML-escaped already.
 */
export function scrollingTable(label: string, table: string): string {
  return `<div class="table-scroll" role="region" aria-label="${label}" tabindex="0">\n${table}\n</div>`;
}
