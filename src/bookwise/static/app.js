// bookwise: the little JavaScript the pages need. No inline script (the CSP forbids it).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// A rule box validates as you type: English, match count, or the error with its caret.
function watchRuleBoxes() {
  for (const box of document.querySelectorAll("textarea[data-rule-check]")) {
    const status = document.getElementById(box.dataset.ruleCheck);
    if (!status) continue;
    let timer = null;
    let sequence = 0;
    const check = async () => {
      const text = box.value.trim();
      const mine = ++sequence;
      if (!text) { status.textContent = ""; box.removeAttribute("aria-invalid"); return; }
      let response;
      try {
        response = await fetch("/api/v1/rules/check", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
          body: JSON.stringify({ rule: text }),
          credentials: "same-origin",
        });
      } catch (error) { return; }
      if (mine !== sequence) return;  // a newer keystroke's answer will follow
      const body = await response.json();
      status.textContent = "";
      if (response.ok) {
        box.removeAttribute("aria-invalid");
        status.className = "rule-status ok";
        let counted = body.matches.toLocaleString() + " matching";
        if (box.dataset.countUrl) {
          // The list below narrows the rule (the tab's filter): count what it will show.
          const shown = await listCount(box.dataset.countUrl, text);
          if (mine !== sequence) return;
          if (shown !== null) {
            counted = shown.toLocaleString() + " matching, " + box.dataset.countWords;
          }
        }
        status.textContent = body.english + " · " + counted;
      } else {
        box.setAttribute("aria-invalid", "true");
        status.className = "rule-status error";
        const where = typeof body.position === "number" ? " (column " + (body.position + 1) + ")" : "";
        status.textContent = (body.reason || body.detail || "invalid rule") + where;
      }
    };
    box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
    check();
  }
}

// How many accounts a list shows for a rule (the assignment page's /assignment/count).
async function listCount(url, rule) {
  try {
    const response = await fetch(url + "&where=" + encodeURIComponent(rule), {
      credentials: "same-origin",
    });
    if (!response.ok) return null;
    return (await response.json()).matches;
  } catch (error) { return null; }
}

// "Select all on this page" checkboxes.
function watchSelectAll() {
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input[name="' + all.dataset.selectAll + '"]')) {
        box.checked = all.checked;
      }
    });
  }
}

// Buttons that open a <dialog> (e.g. the "Assign reps" pop-up) and close it.
function watchDialogs() {
  for (const button of document.querySelectorAll("[data-open-dialog]")) {
    const dialog = document.getElementById(button.dataset.openDialog);
    if (dialog) button.addEventListener("click", () => dialog.showModal());
  }
  for (const button of document.querySelectorAll("[data-close-dialog]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
}

// Confirm before destructive buttons (data-confirm="…").
function watchConfirms() {
  for (const element of document.querySelectorAll("[data-confirm]")) {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.dataset.confirm)) event.preventDefault();
    });
  }
}

// The rows ticked on the page, carried to the next one by a tab link or a filter form
// (data-keep-ticks) as ?ticked=…, so a filter change does not lose them.
function watchKeptTicks() {
  const ticked = () => [...document.querySelectorAll('input[name="refs"]:checked')]
    .map((box) => box.value);
  for (const element of document.querySelectorAll("[data-keep-ticks]")) {
    if (element.tagName === "FORM") {
      element.addEventListener("submit", () => {
        for (const old of element.querySelectorAll('input[name="ticked"]')) old.remove();
        for (const ref of ticked()) {
          const field = document.createElement("input");
          field.type = "hidden";
          field.name = "ticked";
          field.value = ref;
          element.appendChild(field);
        }
      });
    } else {
      element.addEventListener("click", () => {
        const refs = ticked();
        if (!refs.length) return;
        const url = new URL(element.href, window.location.href);
        url.searchParams.delete("ticked");
        for (const ref of refs) url.searchParams.append("ticked", ref);
        element.href = url.toString();
      });
    }
  }
}

// A page answering a form (a refused preview) marks the section that changed (data-land):
// bring it into view, and its message first, instead of leaving the user at the top.
function landOnChange() {
  if (window.location.hash) return;
  const target = document.querySelector("[data-land]");
  if (!target) return;
  const message = target.querySelector('[role="alert"]');
  (message || target).scrollIntoView({ block: "start" });
  if (message) {
    message.setAttribute("tabindex", "-1");
    message.focus({ preventScroll: true });
  }
}

// A search box that hides the entries of a list that do not contain what is typed
// (data-filter-list="id of the list"; each entry carries data-filter-text).
function watchListFilters() {
  for (const box of document.querySelectorAll("input[data-filter-list]")) {
    const list = document.getElementById(box.dataset.filterList);
    if (!list) continue;
    const status = box.dataset.filterStatus ? document.getElementById(box.dataset.filterStatus) : null;
    // Enter in the search box must not submit the form the list belongs to.
    box.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });
    box.addEventListener("input", () => {
      const wanted = box.value.trim().toLocaleLowerCase();
      let shown = 0;
      for (const entry of list.querySelectorAll("[data-filter-text]")) {
        const match = !wanted || entry.dataset.filterText.toLocaleLowerCase().includes(wanted);
        entry.hidden = !match;
        if (match) shown += 1;
      }
      if (status) status.textContent = wanted ? shown + " shown" : "";
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  watchRuleBoxes();
  watchKeptTicks();
  watchListFilters();
  landOnChange();
  watchSelectAll();
  watchDialogs();
  watchConfirms();
});
