"""Small helpers for tests that read HTML."""
import re
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(response) -> str:
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


class _FormReader(HTMLParser):
    """The values a browser would submit for one form (found by id): inputs, textareas, selects, checkboxes."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, []
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.values.append((a["name"], a.get("value", "y" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.values.append((name, text[2:] if text.startswith("\r\n") else text.lstrip("\n")))  # as browsers do
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_values(response, form_id: str) -> MultiDict:
    """What submitting the form `form_id` of this page unchanged would send."""
    reader = _FormReader(form_id)
    reader.feed(response.get_data(as_text=True))
    assert reader.values, f"no form #{form_id} on the page"
    return MultiDict(reader.values)
