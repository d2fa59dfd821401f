"""The menu's links. Which appear depends only on the roles the user acts in (own and as a
deputy now) and on the language, so each worker renders each combination once: twenty
permission checks, URLs and translations were a tenth of a small page's CPU time (issue 12)."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from intranet.core.access import acting_roles, can, security_log

TEMPLATE = "_nav_links.html"
KEPT = 512  # combinations of roles × languages × mount points a worker keeps


def menu_links() -> Markup:
    try:
        roles = acting_roles(current_user._get_current_object())
    except Exception:  # fail closed (SECURITY.md 5): no links rather than an error page
        security_log.exception("role lookup for the menu failed")
        return Markup("")
    key = (roles, str(get_locale()), request.script_root)
    kept = current_app.extensions.setdefault("menu_links", {})
    links = kept.get(key)
    if links is None:
        # `can` answers from the same acting roles, so the links equal the key's.
        links = Markup(current_app.jinja_env.get_template(TEMPLATE).render(can=can))
        if len(kept) < KEPT:
            kept[key] = links
    return links
