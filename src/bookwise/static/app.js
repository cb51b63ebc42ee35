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
        status.textContent = body.english + " · " + body.matches.toLocaleString() + " matching";
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

document.addEventListener("DOMContentLoaded", () => {
  watchRuleBoxes();
  watchSelectAll();
  watchDialogs();
  watchConfirms();
});
