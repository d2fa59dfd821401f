"""Translations looked up once per request and locale, not once per string (issue 12).

Flask-Babel finds the translations object anew for every string: some ten context-local
look-ups each time, which on a page of 300 strings was a tenth of the page's CPU time. Here
the object is kept on Flask-Babel's own per-request namespace together with the locale it is
for, so `force_locale` (mails in the reader's language) and `refresh` still switch it; a page
template gets functions bound to it once per render (`for_render`); label dicts of lazy strings
used in a page's loops are turned into plain strings once (`resolved`).
"""
from __future__ import annotations

from flask import g, has_app_context
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup, escape


def translations():
    """The current locale's translations (a null catalogue outside an app context)."""
    if not has_app_context():
        return get_translations()
    space = g.get("_flask_babel")  # Flask-Babel's per-request namespace
    if space is not None:
        kept = getattr(space, "intranet_translations", None)
        if kept is not None and kept[0] is getattr(space, "babel_locale", None):
            return kept[1]
    found = get_translations()
    space = g.get("_flask_babel")
    if space is not None:
        space.intranet_translations = (get_locale(), found)
    return found


class LazyText(LazyString):
    """Flask-Babel's lazy string, translated through the kept catalogue. Flask-Babel's finds
    the catalogue anew each time it is read, and markupsafe's `hasattr(s, "__html__")` reads
    it too (LazyString answers attributes by translating): a select's options were translated
    six times each when rendered."""

    def __str__(self) -> str:
        text = translations().ugettext(self._args[0])
        return text % self._kwargs if self._kwargs else text

    def __html__(self) -> str:
        return escape(str(self))


def lazy_gettext(string: str, **variables) -> LazyText:
    """Flask-Babel's `lazy_gettext`, cheaper to read (LazyText). Imported as `_l`."""
    return LazyText(None, string, **variables)


_RESOLVED: dict[tuple[int, int], tuple[dict, object, dict]] = {}


def resolved(labels: dict) -> dict:
    """`labels` (a module's dict of lazy strings) as plain strings in the current locale:
    what a template looks up row after row. Built once per worker and catalogue (a catalogue
    does not change while the process runs); the result is shared, never change it."""
    if not has_app_context():
        return {key: str(value) for key, value in labels.items()}
    catalogue = translations()
    key = (id(labels), id(catalogue))
    entry = _RESOLVED.get(key)
    if entry is None or entry[0] is not labels or entry[1] is not catalogue:
        entry = (labels, catalogue, {k: str(v) for k, v in labels.items()})
        if len(_RESOLVED) < 4096:
            _RESOLVED[key] = entry
    return entry[2]


# Jinja's "newstyle" gettext semantics (jinja2.ext): the translation is a format string even
# without variables, and marked safe when autoescaping, its variables escaped by `%`.

def _newstyle(gettext):
    @pass_context
    def translate(__context, __string, **variables):
        text = gettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables
    return translate


def _newstyle_plural(ngettext):
    @pass_context
    def translate(__context, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        text = ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables
    return translate


def install(app) -> None:
    """Templates' `_()` through the kept translations: for macros and templates rendered
    outside render_template; page templates get `for_render()`'s, bound once per render."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def for_render() -> dict:
    """Template context: gettext and ngettext bound to this render's translations."""
    catalogue = translations()
    return {"gettext": _newstyle(catalogue.ugettext),
            "ngettext": _newstyle_plural(catalogue.ungettext)}
