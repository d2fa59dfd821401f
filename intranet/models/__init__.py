"""All models, imported here so Alembic and the app see the whole schema."""
from intranet.models.audit import AuditEntry
from intranet.models.credit import CreditApplication, CreditBreach, CreditOverride
from intranet.models.customer import (
                                      Activity,
                                      Attachment,
                                      Contact,
                                      Customer,
                                      Order,
                                      Payment,
                                      Shipment,
)
from intranet.models.notification import Notification
from intranet.models.setting import Setting
from intranet.models.user import Delegation, Department, User, UserRole
from intranet.models.workflow import WorkflowHistory

__all__ = ["Activity", "Attachment", "AuditEntry", "Contact", "CreditApplication",
           "CreditBreach", "CreditOverride", "Customer", "Delegation",
           "Department", "Notification", "Order", "Payment", "Setting", "Shipment", "User",
           "UserRole", "WorkflowHistory"]
