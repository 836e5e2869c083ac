"""The appointment board: today's and tomorrow's arrivals per advisor and hour, printable."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from desk.auth import require_user
from desk.context import db, now, settings
from desk.i18n import current_language
from outreach.appointment_board import board
from outreach.scripts.filters import money

bp = Blueprint("board", __name__, url_prefix="/board", template_folder="templates")
bp.before_request(require_user)


@bp.route("/")
def index() -> ResponseReturnValue:
    """Two days from ``?day=YYYY-MM-DD`` (default today): what parts and bays must prepare."""
    tz = settings().tz
    today = now().astimezone(tz).date()
    try:
        first = (
            date.fromisoformat(request.args.get("day", "")) if request.args.get("day") else today
        )
    except ValueError:
        first = today
    days = [(d, board(db(), d, tz=tz)) for d in (first, first + timedelta(days=1))]
    locale = current_language()
    return render_template(
        "board/index.html",
        days=days,
        first=first,
        today=today,
        money=lambda price: "—" if price is None else money(price, locale),
        special=settings().dealership.special_services,
    )
