"""Commands for the standard phrasing: ``scripts list``, ``scripts preview`` and
``scripts templates`` (the SMS scripts as a domestic provider's registered templates)."""

from __future__ import annotations

import click
from sqlalchemy import select

from outreach.cli.app import App, pass_app
from outreach.models import Customer, Vehicle
from outreach.scripts import (
    ScriptError,
    ScriptNotFound,
    is_overridden,
    measure,
    render,
    segment_budget,
    template_names,
)
from outreach.scripts.examples import example_context
from outreach.scripts.templates import check_scripts
from outreach.settings import CHANNELS, LOCALES


@click.group("scripts")
def scripts_group() -> None:
    """The standard phrasing (标准用语) sent to customers."""


@scripts_group.command("list")
@pass_app
def list_scripts(app: App) -> None:
    """List every script by locale and channel; (override) marks the dealership's own files."""
    for locale, channel, name in template_names(app.settings):
        mark = "  (override)" if is_overridden(app.settings, locale, channel, name) else ""
        click.echo(f"{locale:<6} {channel:<6} {name}{mark}")


@scripts_group.command("preview")
@click.argument("template")
@click.option(
    "--customer", "customer_ref", required=True, help="The customer's id (customers.csv)."
)
@click.option("--locale", type=click.Choice(LOCALES), help="Default: the customer's locale.")
@click.option("--channel", type=click.Choice(CHANNELS), default="sms", show_default=True)
@pass_app
def preview(app: App, template: str, customer_ref: str, locale: str | None, channel: str) -> None:
    """Render TEMPLATE with example data and a real customer's name, vehicle and locale.

    Prints the text, then its SMS encoding, length and segment count, and a warning when an
    SMS takes more parts than the script's budget.
    """
    names = {name for _, ch, name in template_names(app.settings) if ch == channel}
    if template not in names:
        raise click.BadParameter(
            f"no {channel} script named {template!r}; known: {', '.join(sorted(names))}",
            param_hint="TEMPLATE",
        )
    with app.sessions() as session:
        customer = session.scalars(
            select(Customer).where(Customer.external_id == customer_ref)
        ).one_or_none()
        if customer is None:
            raise click.ClickException(f"no customer with id {customer_ref!r}")
        vehicle = session.scalars(
            select(Vehicle)
            .where(Vehicle.customer_id == customer.id)
            .order_by(Vehicle.active.desc(), Vehicle.id)
            .limit(1)
        ).one_or_none()
        locale = locale or customer.locale
        context = example_context(template, locale, app.settings)
        if "customer" in context:
            context["customer"] = {"name": customer.name}
        if "vehicle" in context and vehicle is not None:
            context["vehicle"] = {"plate": vehicle.plate, "model": vehicle.model}
    try:
        text = render(app.settings, template, locale=locale, channel=channel, **context)
    except (ScriptNotFound, ScriptError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)
    if channel == "sms":
        size = measure(text)
        click.echo(str(size))
        budget = segment_budget(template)
        if size.segments > budget:
            click.echo(
                f"warning: {size.segments} segments, over the budget of {budget} for {template}: "
                "each part is billed; shorten the script or the data it shows",
                err=True,
            )
    else:
        click.echo(f"voice prompt: {len(text)} characters")


commands: list[click.Command] = [scripts_group]


# --- scripts templates: the SMS scripts as a domestic provider's registered templates -----


@scripts_group.command("templates")
@click.option("--provider", type=click.Choice(["aliyun"]), default="aliyun", show_default=True)
@click.option("--locale", "locales", multiple=True, type=click.Choice(LOCALES),
              help="Only these locales (default: all).")  # fmt: skip
@pass_app
def templates_command(app: App, provider: str, locales: tuple[str, ...]) -> None:
    """Every SMS script as the template to register: text with ${name} variables, its type
    (notification or marketing), each variable's longest value seen in the examples, and why
    a script cannot be registered.  Exits 1 when a script registered in [gateway.aliyun]
    cannot be a template."""
    settings = app.settings
    aliyun = settings.gateway_choice.aliyun
    registered = aliyun.templates if aliyun is not None else {}
    blocking = 0
    for report in check_scripts(settings, locales or None):
        t = report.template
        code = registered.get(t.locale, {}).get(t.script)
        state = "REFUSED" if report.refused else "ok"
        click.echo(f"{t.locale}/{t.script}  [{t.kind}]  {code or 'no code'}  {state}")
        click.echo("  " + t.text.replace("\n", "\n  "))
        for name in t.variables:
            longest = report.longest.get(name, "")
            click.echo(f"    ${{{name}}}  {len(longest):>2}  {longest!r}")
        for problem in report.problems:
            click.echo(f"  ! {problem}")
        if report.refused and code:
            blocking += 1
    if blocking:
        raise click.ClickException(
            f"{blocking} registered script(s) cannot be {provider} templates"
        )
