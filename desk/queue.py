"""The callback queue: who needs a person, claim an entry, record the outcome, book a slot."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from desk import booking
from desk.auth import require_user
from desk.context import db, now, settings, user
from desk.forms import FormError, job_list, local_datetime, whole_number
from desk.i18n import current_language, t
from outreach.advisor_queue import (
    OUTCOMES,
    SYSTEM_DETAIL,
    DeskError,
    claim,
    customer_file,
    list_callbacks,
    record_outcome,
    target_response,
    transcript,
)
from outreach.db import commit_with_retries
from outreach.models import Appointment, CallbackRequest, User

bp = Blueprint("queue", __name__, url_prefix="/queue", template_folder="templates")
bp.before_request(require_user)


@bp.route("/")
def index() -> ResponseReturnValue:
    """The entries waiting now, most urgent first, and those to call again later."""
    waiting, later = list_callbacks(db(), now=now())
    return render_template("queue/index.html", waiting=waiting, later=later)


def _entry(callback_id: int) -> CallbackRequest:
    callback = db().get(CallbackRequest, callback_id)
    if callback is None:
        abort(404)
    return callback


@bp.route("/<int:callback_id>")
def detail(callback_id: int) -> ResponseReturnValue:
    """One entry: reason, transcript, customer file, outcome and booking forms."""
    callback = _entry(callback_id)
    at = now()
    g.lang = current_language()
    jobs = request.args.getlist("jobs") or ["maintenance"]
    claimer = db().get(User, callback.claimed_by) if callback.claimed_by else None
    return render_template(
        "queue/detail.html",
        callback=callback,
        customer=callback.customer,
        claimer=claimer,
        mine=callback.status == "claimed" and callback.claimed_by == user().id,
        age=at - (callback.call_again_at or callback.created_at),
        target=target_response(callback.reason),
        transcript=transcript(db(), callback.customer_id),
        files=customer_file(db(), callback.customer_id),
        outcomes=OUTCOMES,
        job_choices=booking.job_choices(settings(), g.lang),
        jobs=jobs,
        slots=booking.offer(db(), settings(), jobs=jobs, now=at),
        tz=settings().tz,
        now=at,
        system_detail=callback.reason in SYSTEM_DETAIL,
    )


@bp.route("/<int:callback_id>/claim", methods=["POST"])
def claim_entry(callback_id: int) -> ResponseReturnValue:
    """Claim the entry; if another advisor was faster, say so."""
    _entry(callback_id)
    if claim(db(), callback_id, user_id=user().id, now=now()):
        db().commit()
        flash(t("claimed"), "info")
    else:
        flash(t("claim_lost"), "error")
    return redirect(url_for("queue.detail", callback_id=callback_id))


@bp.route("/<int:callback_id>/outcome", methods=["POST"])
def outcome(callback_id: int) -> ResponseReturnValue:
    """Record what came of the call."""
    _entry(callback_id)
    form = request.form
    if form.get("outcome") not in OUTCOMES:
        flash(t("choose_outcome"), "error")
        return redirect(url_for("queue.detail", callback_id=callback_id))
    try:
        again = None
        if form.get("outcome") == "call_again":
            again = local_datetime(form.get("call_again_at"), settings().tz, field="call_again_at")
        record_outcome(
            db(),
            callback_id,
            user_id=user().id,
            outcome=form.get("outcome", ""),
            note=form.get("note", ""),
            call_again_at=again,
            now=now(),
        )
    except (DeskError, FormError) as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("queue.detail", callback_id=callback_id))
    db().commit()
    flash(t("outcome_saved"), "info")
    return redirect(url_for("queue.index"))


@bp.route("/<int:callback_id>/book", methods=["POST"])
def book(callback_id: int) -> ResponseReturnValue:
    """Book a slot for the customer and close the entry as "booked"."""
    callback = _entry(callback_id)
    if callback.status != "claimed" or callback.claimed_by != user().id:
        flash(t("claim_first"), "error")
        return redirect(url_for("queue.detail", callback_id=callback_id))
    form = request.form
    at = now()
    # A capacity slot is "local time@advisor id"; a typed time has no advisor part.
    when, _, slot_advisor = (form.get("starts_at") or "").partition("@")
    try:
        request_ = booking.Booking(
            customer_id=callback.customer_id,
            vehicle_id=whole_number(form.get("vehicle_id"), field="vehicle_id"),
            jobs=job_list(",".join(form.getlist("jobs"))) or ["maintenance"],
            starts_at=local_datetime(when, settings().tz, field="starts_at"),
            advisor_id=(whole_number(slot_advisor, field="starts_at") if slot_advisor else None),
            outreach_id=callback.outreach_id,
            note=form.get("note") or "",
        )

        def book_and_close() -> Appointment:
            appointment = booking.book(db(), settings(), request_, now=at)
            record_outcome(
                db(),
                callback_id,
                user_id=user().id,
                outcome="booked",
                note=(form.get("note") or "").strip() or f"#{appointment.id}",
                now=at,
            )
            return appointment

        # A deadlock or serialization failure against another booking runs it again.
        appointment = commit_with_retries(db(), book_and_close)
    except booking.SlotGone:
        db().rollback()
        flash(t("slot_taken"), "error")
        return redirect(url_for("queue.detail", callback_id=callback_id))
    except (booking.BookingError, DeskError, FormError, ValueError) as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("queue.detail", callback_id=callback_id))
    flash(f"{t('booked_ok')}: {appointment.starts_at.astimezone(settings().tz):%Y-%m-%d %H:%M}")
    return redirect(url_for("queue.index"))
