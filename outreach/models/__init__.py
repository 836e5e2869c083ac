"""Every table, imported here so that ``Base.metadata`` knows them all."""

from outreach.models.appointments import (
    APPOINTMENT_ACTIVE,
    APPOINTMENT_STATUSES,
    Appointment,
    AppointmentJob,
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
    Visit,
)

__all__ = [
    "APPOINTMENT_ACTIVE",
    "APPOINTMENT_STATUSES",
    "OUTREACH_OPEN",
    "SERVICE_VISIT_TYPES",
    "SEVERITIES",
    "VISIT_TYPES",
    "Advisor",
    "Appointment",
    "AppointmentJob",
    "CallbackRequest",
    "ContactAttempt",
    "Customer",
    "DeferredItem",
    "Outreach",
    "OutreachReason",
    "Vehicle",
    "Visit",
]
