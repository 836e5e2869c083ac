"""Every table, imported here so that ``Base.metadata`` knows them all."""

from outreach.models.appointments import (
    APPOINTMENT_ACTIVE,
    APPOINTMENT_STATUSES,
    Appointment,
    AppointmentJob,
    AppointmentJobLine,
)
from outreach.models.capacity import (
    HOLD_STATUSES,
    CapacityDayLoad,
    CapacityTake,
    CapacityUnit,
    SlotHold,
)
from outreach.models.contacts import (
    OUTREACH_OPEN,
    CallbackRequest,
    ContactAttempt,
    Outreach,
    OutreachReason,
)
from outreach.models.customers import (
    SERVICE_VISIT_TYPES,
    SEVERITIES,
    VISIT_TYPES,
    Advisor,
    Customer,
    DeferredItem,
    Vehicle,
    VehicleHistory,
    Visit,
)
from outreach.models.messaging import SANDBOX_KINDS, SandboxMessage, WebhookEvent
from outreach.models.outbox import (
    OUTBOX_STATUSES,
    JobRun,
    OutboxMessage,
    PendingStatus,
    SendPacing,
)
from outreach.models.users import ROLES, SIGN_IN_SCOPES, ApiToken, SignInFailure, User

__all__ = [
    "APPOINTMENT_ACTIVE",
    "APPOINTMENT_STATUSES",
    "HOLD_STATUSES",
    "OUTBOX_STATUSES",
    "OUTREACH_OPEN",
    "ROLES",
    "SANDBOX_KINDS",
    "SERVICE_VISIT_TYPES",
    "SEVERITIES",
    "SIGN_IN_SCOPES",
    "VISIT_TYPES",
    "Advisor",
    "ApiToken",
    "Appointment",
    "AppointmentJob",
    "AppointmentJobLine",
    "CallbackRequest",
    "CapacityDayLoad",
    "CapacityTake",
    "CapacityUnit",
    "ContactAttempt",
    "Customer",
    "DeferredItem",
    "JobRun",
    "OutboxMessage",
    "Outreach",
    "OutreachReason",
    "PendingStatus",
    "SandboxMessage",
    "SendPacing",
    "SignInFailure",
    "SlotHold",
    "User",
    "Vehicle",
    "VehicleHistory",
    "Visit",
    "WebhookEvent",
]
