"""Reading the pages as a browser would: elements, forms and their fields, table cells.

``Page.of(response)`` parses the HTML (standard library only). ``form(action)`` finds a form
by its action and returns the fields a browser would submit, with the CSRF token included,
so a test fills in what a person would change and posts the rest as the page has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

VOID = {"input", "br", "meta", "link", "img", "hr", "wbr", "source", "col", "area"}


@dataclass
class Element:
    """One HTML element: tag, attributes, children and the text directly inside."""

    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    parts: list[str | Element] = field(default_factory=list)

    def text(self) -> str:
        """All the text inside, whitespace collapsed."""
        words: list[str] = []
        for part in self.parts:
            words.append(part if isinstance(part, str) else part.text())
        return " ".join(" ".join(words).split())

    def iter(self) -> list[Element]:
        """This element and every element below it, in document order."""
        found = [self]
        for child in self.children:
            found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag (any tag when None) whose attributes have these values."""
        wanted = {key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()}
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag)
            and all(element.attrs.get(key) == value for key, value in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        """The first such element; fails the test when there is none."""
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "wbr":  # a place a line may break, no text: "ana<wbr>@example.com" is one word
            return
        element = Element(tag, {key: value or "" for key, value in attrs})
        parent = self.stack[-1]
        parent.children.append(element)
        parent.parts.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        parts = self.stack[-1].parts
        if parts and isinstance(parts[-1], str):  # text around a <wbr>: one run of text
            parts[-1] += data
        else:
            parts.append(data)


@dataclass
class Page:
    """A parsed page and its status code."""

    status: int
    root: Element
    html: str

    @staticmethod
    def of(response: Any) -> Page:
        """Parse a TestClient response."""
        builder = _Builder()
        builder.feed(response.text)
        return Page(status=response.status_code, root=builder.root, html=response.text)

    def text(self) -> str:
        """The text of <main>."""
        return self.root.find("main").text()

    def form(self, action: str, index: int = 0) -> Form:
        """The ``index``-th form posting to ``action``."""
        forms = self.root.find_all("form", action=action)
        assert len(forms) > index, f"no form posting to {action}; forms: {self.actions()}"
        return Form(self, forms[index])

    def actions(self) -> list[str]:
        """The actions of every form on the page."""
        return [form.attrs.get("action", "") for form in self.root.find_all("form")]

    def buttons(self) -> list[str]:
        """The text of every button in <main>."""
        return [button.text() for button in self.root.find("main").find_all("button")]

    def error(self) -> str:
        """The text of the error boxes."""
        return " ".join(e.text() for e in self.root.find_all(role="alert"))

    def values(self, name: str) -> list[str]:
        """The values of every input called ``name`` (e.g. the row checkboxes)."""
        return [e.attrs.get("value", "") for e in self.root.find_all("input", name=name)]


@dataclass
class Form:
    """A form and the fields it would submit."""

    page: Page
    element: Element

    def fields(self) -> list[tuple[str, str]]:
        """What a browser submits without any change: hidden inputs, checked boxes, selects."""
        fields: list[tuple[str, str]] = []
        form_id = self.element.attrs.get("id")
        inside = self.element.iter()
        outside = [e for e in self.page.root.iter() if form_id and e.attrs.get("form") == form_id]
        for element in inside + outside:
            name = element.attrs.get("name")
            if not name or element.tag == "button":
                continue
            kind = element.attrs.get("type", "text")
            if element.tag == "input" and kind in {"checkbox", "radio"}:
                if "checked" in element.attrs:
                    fields.append((name, element.attrs.get("value", "on")))
            elif element.tag == "input":
                fields.append((name, element.attrs.get("value", "")))
            elif element.tag == "textarea":
                fields.append((name, element.text()))
            elif element.tag == "select":
                options = element.find_all("option")
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                fields.extend((name, o.attrs.get("value", o.text())) for o in chosen)
        return fields

    def data(self, **changes: str | list[str]) -> dict[str, list[str]]:
        """The fields with some replaced (a list for repeated fields such as ``refs``)."""
        data: dict[str, list[str]] = {}
        for name, value in self.fields():
            data.setdefault(name, []).append(value)
        for name, value in changes.items():
            data[name] = [value] if isinstance(value, str) else list(value)
        return data
