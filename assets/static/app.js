// pbxbill admin: comfort only. Every action works without this file.
"use strict";

// Sortable columns: click a header of a table.sortable. A cell's
// data-sort attribute, when present, is the value sorted on.
function sortTable(th) {
  const table = th.closest("table");
  const body = table.tBodies[0];
  const col = Array.prototype.indexOf.call(th.parentNode.children, th);
  const asc = th.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("thead th").forEach((h) => h.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  const key = (row) => {
    const cell = row.children[col];
    if (!cell) return "";
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const nx = parseFloat(x.replace(/[^0-9.+-]/g, "")), ny = parseFloat(y.replace(/[^0-9.+-]/g, ""));
    let c;
    if (!isNaN(nx) && !isNaN(ny) && /^[\s\d.,:+%-]*(\s*[A-Z]{3}|\s*s|\s*days)?$/.test(x)) c = nx - ny;
    else c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
    return asc ? c : -c;
  });
  rows.forEach((r) => body.appendChild(r));
}

document.addEventListener("click", (e) => {
  const th = e.target.closest("table.sortable thead th");
  if (th && !th.classList.contains("nosort")) sortTable(th);
});

// Confirm dialogs: a form with data-confirm asks before it is sent.
document.addEventListener("submit", (e) => {
  const msg = e.target.dataset ? e.target.dataset.confirm : undefined;
  if (msg && !window.confirm(msg)) e.preventDefault();
});

// Copy buttons: a button[data-copy] copies the text of the element whose
// id it names. Without a script the text is there to select by hand.
document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-copy]");
  if (!b || !navigator.clipboard) return;
  const el = document.getElementById(b.dataset.copy);
  if (!el) return;
  navigator.clipboard.writeText(el.textContent.trim()).then(() => {
    b.textContent = "Copied";
  });
});

// On a narrow screen the navigation scrolls sideways: show the current page.
document.addEventListener("DOMContentLoaded", () => {
  const cur = document.querySelector(".top nav a[aria-current]");
  if (cur && cur.scrollIntoView) cur.scrollIntoView({ block: "nearest", inline: "center" });
});

// Print buttons (the statement page).
document.addEventListener("click", (e) => {
  if (e.target.closest && e.target.closest("[data-print]")) window.print();
});

// A form sent back with errors: bring the first one into view and put the
// cursor in its field, rather than leave the page at its top.
document.addEventListener("DOMContentLoaded", () => {
  const err = document.querySelector("form .field-error");
  if (!err) return;
  const field = err.parentElement && err.parentElement.querySelector("input, select, textarea");
  err.scrollIntoView({ block: "center" });
  if (field) field.focus({ preventScroll: true });
});
