"""Roles from RULES.md "People and departments"; a user can hold several."""
from enum import StrEnum

from intranet.core.i18n import lazy_gettext as _l


class Role(StrEnum):
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    SERVICE_DESK = "service_desk"
    COMPLAINT_HANDLER = "complaint_handler"
    FINANCE = "finance"
    GENERAL_MANAGER = "general_manager"
    ARCHIVIST = "archivist"
    ADMIN = "admin"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SALES_REP: _l("Sales rep"),
    Role.SALES_MANAGER: _l("Sales manager / marketing director"),
    Role.SERVICE_DESK: _l("Service desk"),
    Role.COMPLAINT_HANDLER: _l("Complaint handler"),
    Role.FINANCE: _l("Finance"),
    Role.GENERAL_MANAGER: _l("General manager"),
    Role.ARCHIVIST: _l("Archivist"),
    Role.ADMIN: _l("System administrator"),
}

def role_label(code: str):
    """The label of a stored role code; an unknown code is shown as it is."""
    try:
        return Role(code.strip()).label
    except ValueError:
        return code


# Roles that approve things and may therefore be deputised for a period (003 §二(二)).
DELEGABLE = frozenset({Role.SALES_MANAGER, Role.GENERAL_MANAGER, Role.COMPLAINT_HANDLER,
                       Role.FINANCE})
