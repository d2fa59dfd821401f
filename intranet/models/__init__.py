"""All models, imported here so Alembic and the app see the whole schema."""
from intranet.models.allocation import ContactMiss, Penalty
from intranet.models.archive import IssuedDocument
from intranet.models.archive_export import ArchiveExport
from intranet.models.audit import AuditEntry
from intranet.models.complaint import (
                                       CaseAttachment,
                                       CaseContact,
                                       CasePerson,
                                       CorrectiveAction,
                                       LedgerCounter,
                                       ServiceCase,
)
from intranet.models.credit import CreditApplication, CreditBreach, CreditOverride
from intranet.models.customer import (
                                      Activity,
                                      ActivityParticipant,
                                      Attachment,
                                      Contact,
                                      Customer,
                                      Order,
                                      Payment,
                                      Shipment,
)
from intranet.models.notification import Notification
from intranet.models.report import Report, TierChange
from intranet.models.resources import (
    ConflictClaim,
    CustomerPool,
    OwnershipRecord,
    PoolClaim,
    ReclaimRule,
    Reclassification,
    ResourceRequest,
    TransferRequest,
)
from intranet.models.sealing import ArchiveAccessRequest, SealedPeriod
from intranet.models.setting import Setting, SettingsVersion
from intranet.models.user import Delegation, Department, User, UserRole
from intranet.models.visit import FollowUp, VisitPlan
from intranet.models.workflow import WorkflowCopy, WorkflowDeadline, WorkflowHistory

__all__ = ["Activity", "ActivityParticipant", "ArchiveAccessRequest", "ArchiveExport", "Attachment",
           "AuditEntry", "CaseAttachment", "CaseContact", "CasePerson", "ConflictClaim", "Contact",
           "ContactMiss", "CorrectiveAction", "CreditApplication", "CreditBreach", "CreditOverride",
           "Customer", "CustomerPool", "Delegation", "Department", "FollowUp", "IssuedDocument",
           "LedgerCounter", "Notification", "Order", "OwnershipRecord", "Payment", "Penalty",
           "PoolClaim", "ReclaimRule", "Reclassification", "Report", "ResourceRequest",
           "SealedPeriod", "ServiceCase", "Setting", "SettingsVersion", "Shipment", "TierChange",
           "TransferRequest", "User", "UserRole", "VisitPlan", "WorkflowCopy", "WorkflowDeadline",
           "WorkflowHistory"]
