"""What a person would see cut off on a page: page-level sideways scroll, and any element whose
content is clipped by its box or sticks out of it.

``layout_problems(page)`` returns them in words (an empty list: nothing is cut off). It checks

- the page: wider than the window (it scrolls sideways), or an element beyond the right edge;
- clipping: an element with ``overflow`` hidden or clip (or ``text-overflow: ellipsis``) whose
  content is wider or taller than its box: part of a value is cut away;
- sticking out: an element that reaches past the box of a parent that does not scroll (a card,
  a cell, a form): it runs over its neighbour or off the card;
- tables: every table sits in a scrolling wrapper (``.table-wrap``), and at desktop widths
  (``wide=True``) no wrapper needs scrolling: a column behind a scrollbar at 1280 px is a
  column the user does not see (the CSM list's MRR column was);
- screen-reader-only text takes no room and lies inside the page.
"""

from __future__ import annotations

from playwright.sync_api import Page

LAYOUT = """(wide) => {
  const width = document.documentElement.clientWidth;
  const name = (e) => {
    let text = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "");
    if (typeof e.className === "string" && e.className.trim()) {
      text += "." + e.className.trim().split(/\\s+/).join(".");
    }
    const words = (e.innerText || e.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return words ? text + " “" + words + "”" : text;
  };
  const ignored = (e) =>
    e.closest(".sr-only, dialog:not([open]), [hidden], template, script, style");
  const seen = (e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== "hidden";
  };
  const all = [...document.querySelectorAll("body *")].filter((e) => !ignored(e) && seen(e));

  const wideElements = all
    .filter((e) => !e.closest(".table-wrap"))
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .map(name);

  const clipped = [];
  // A form control's own text scrolls inside it by design (a long description in its field).
  const controls = new Set(["INPUT", "TEXTAREA", "SELECT"]);
  for (const e of all.filter((e) => !controls.has(e.tagName))) {
    const style = getComputedStyle(e);
    const hides = (value) => value === "hidden" || value === "clip";
    const ellipsis = style.textOverflow === "ellipsis";
    const cutX = (hides(style.overflowX) || ellipsis) && e.scrollWidth > e.clientWidth + 1;
    const cutY = hides(style.overflowY) && e.scrollHeight > e.clientHeight + 1;
    if (cutX) clipped.push(name(e) + " (width " + e.scrollWidth + " in " + e.clientWidth + ")");
    else if (cutY) {
      clipped.push(name(e) + " (height " + e.scrollHeight + " in " + e.clientHeight + ")");
    }
  }

  const sticking = [];
  for (const e of all) {
    const parent = e.parentElement;
    if (!parent || parent === document.body || parent === document.documentElement) continue;
    const own = getComputedStyle(e);
    if (own.position === "absolute" || own.position === "fixed") continue;
    const style = getComputedStyle(parent);
    if (style.display === "inline" || style.display === "contents") continue;
    if (["auto", "scroll"].includes(style.overflowX)) continue;  // it scrolls: checked below
    if (e.closest(".table-wrap") && e.closest(".table-wrap") !== e) {
      // Inside a scrolling table, a cell may be as wide as the table: only cells' content
      // is checked against the cell.
      if (!["TD", "TH"].includes(parent.tagName)) continue;
    }
    const box = e.getBoundingClientRect();
    const outer = parent.getBoundingClientRect();
    if (box.right > outer.right + 1 || box.left < outer.left - 1) {
      sticking.push(name(e) + " out of " + name(parent) + " by " +
        Math.round(Math.max(box.right - outer.right, outer.left - box.left)) + "px");
    }
  }

  const tables = [...document.querySelectorAll("table")].filter((t) => !ignored(t) && seen(t));
  const unwrapped = [];
  const scrolled = [];
  for (const table of tables) {
    let box = table.parentElement;
    while (box && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) {
      box = box.parentElement;
    }
    const label = table.caption ? table.caption.textContent.trim() : name(table);
    if (!box || box.getBoundingClientRect().right > width + 1) unwrapped.push(label);
    else if (wide && box.scrollWidth > box.clientWidth + 1) {
      scrolled.push(label + " (" + box.scrollWidth + "px in " + box.clientWidth + "px)");
    }
  }

  const hidden = [...document.querySelectorAll(".sr-only")];
  const shown = hidden
    .filter((e) => e.getBoundingClientRect().width > 1)
    .map((e) => e.textContent.trim());
  const outside = hidden
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .map((e) => e.textContent.trim());
  return {
    scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, width,
    wide: wideElements.slice(0, 5), clipped: clipped.slice(0, 8), sticking: sticking.slice(0, 8),
    unwrapped, scrolled, shown: shown.slice(0, 5), outside: outside.slice(0, 3),
  };
}"""


def layout_problems(page: Page) -> list[str]:
    """What is cut off, clipped, sticking out or scrolling sideways on this page, in words."""
    wide = page.viewport_size is None or page.viewport_size["width"] >= 1000
    found = page.evaluate(LAYOUT, wide)
    problems = []
    if max(found["scroll"], found["body"]) > found["width"]:
        problems.append(f"the page is {found['scroll']}px wide in {found['width']}px")
    if found["wide"]:
        problems.append(f"these stick out of the page: {found['wide']}")
    if found["clipped"]:
        problems.append(f"content clipped by its box: {found['clipped']}")
    if found["sticking"]:
        problems.append(f"content sticks out of its box: {found['sticking']}")
    if found["unwrapped"]:
        problems.append(f"a table is not inside a scrolling wrapper: {found['unwrapped']}")
    if found["scrolled"]:
        problems.append(f"a table needs sideways scrolling at this width: {found['scrolled']}")
    if found["shown"]:
        problems.append(f"screen-reader-only text takes room: {found['shown']}")
    if found["outside"]:
        problems.append(f"screen-reader-only text lies off to the right: {found['outside']}")
    return problems
