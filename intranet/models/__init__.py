"""All models, imported here so Alembic and the app see the whole schema."""
from intranet.models.audit import AuditEntry
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

__all__ = ["Activity", "Attachment", "AuditEntry", "Contact", "Customer", "Delegation",
           "Department", "Notification", "Order", "Payment", "Setting", "Shipment", "User",
           "UserRole"]
