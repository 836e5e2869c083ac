"""The recommended work an appointment was booked for: a line per deferred item the offer named."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.db import Base
from outreach.models.appointments import Appointment
from outreach.models.customers import DeferredItem


class AppointmentJobLine(Base):
    """A deferred item to be done at the visit, with the price quoted for it (None: to quote).

    Beside the appointment's jobs (which reserve labour and bays), these tell parts staff and
    the technician what to prepare; the item is closed when the visit is imported as done.
    """

    __tablename__ = "appointment_job_lines"
    __table_args__ = (
        UniqueConstraint("appointment_id", "deferred_item_id", name="uq_job_line_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    deferred_item_id: Mapped[int | None] = mapped_column(ForeignKey("deferred_items.id"))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Numeric(10, 2, asdecimal=False))

    appointment: Mapped[Appointment] = relationship()
    deferred_item: Mapped[DeferredItem | None] = relationship()
