"""All models, imported here so Alembic and the app see the whole schema."""
from intranet.models.audit import AuditEntry
from intranet.models.customer import Customer
from intranet.models.notification import Notification
from intranet.models.setting import Setting
from intranet.models.user import Delegation, Department, User, UserRole

__all__ = ["AuditEntry", "Customer", "Delegation", "Department", "Notification", "Setting",
           "User", "UserRole"]
