"""Settings: the dealership's TOML configuration plus the process environment.

Read once at an entry point with :func:`load_settings`; never at import time, so tests build
:class:`Settings` directly.  Every mistake names the key and the expected form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from outreach.capacity.config import CapacityConfig, parse_capacity
from outreach.config_reader import LOCALES, ConfigError, ConfigReader
from outreach.gateway_config import GatewayChoice, parse_gateway, with_environment

# config/dealership.example.toml, shipped inside the package as a link (a copy in a wheel).
DEFAULT_CONFIG = Path(__file__).parent / "dealership.example.toml"
DEFAULT_DATABASE_URL = "sqlite:///outreach.db"
CHANNELS = ("sms", "voice")

__all__ = ["LOCALES", "ConfigError"]  # re-exported: most callers import them from here


@dataclass(frozen=True)
class Dealership:
    name: str = "Star Motors Service"
    timezone: str = "Asia/Shanghai"
    country: str = "CN"
    phone: str = "+862155550100"
    address: str = ""
    default_locale: str = "zh-CN"
    special_services: dict[str, list[str]] = field(default_factory=dict)
    # The name and address as written in one language's messages (all-Latin English ones keep
    # English SMS in GSM-7, 160 characters a part instead of 70); ``name``/``address`` otherwise.
    names: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def name_in(self, locale: str) -> str:
        """The dealership's name in ``locale``'s messages."""
        return self.names.get(locale) or self.name

    def address_in(self, locale: str) -> str:
        """The dealership's address in ``locale``'s messages."""
        return self.addresses.get(locale) or self.address


@dataclass(frozen=True)
class ImportDefaults:
    """What the importer assumes when a customers.csv column is absent or empty."""

    phone_region: str = "CN"
    consent: bool = False
    timezone: str = "Asia/Shanghai"
    preferred_channel: str = "sms"


@dataclass(frozen=True)
class MaintenanceInterval:
    enabled: bool = True
    interval_months: int = 3
    interval_km: int = 5000
    lead_days: int = 7
    default_km_per_day: int = 40


@dataclass(frozen=True)
class DeferredWork:
    enabled: bool = True
    lead_days: int = 14
    severities: tuple[str, ...] = ("safety", "high", "medium", "low")


@dataclass(frozen=True)
class SeasonalWindow:
    name: str
    title: dict[str, str]
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    min_vehicle_age_years: int = 0


@dataclass(frozen=True)
class Seasonal:
    enabled: bool = True
    windows: tuple[SeasonalWindow, ...] = ()


@dataclass(frozen=True)
class PostServiceFollowup:
    enabled: bool = True
    after_days_min: int = 2
    after_days_max: int = 3
    visit_types: tuple[str, ...] = ("maintenance", "repair", "accident")


@dataclass(frozen=True)
class ContactRules:
    cooldown_days_after_decline: int = 30
    max_contacts_per_30_days: int = 3


@dataclass(frozen=True)
class ContactWindow:
    start: time = time(9, 0)
    end: time = time(20, 0)
    weekends: bool = True
    holidays: bool = False
    # An answer to a customer who wrote or spoke to us this recently may go outside the window.
    reply_minutes: int = 30


@dataclass(frozen=True)
class Sending:
    """How the outbox senders pace and retry (``[sending]``)."""

    rate_per_second: float = 1.0  # all senders together; a Twilio long code allows about 1
    max_attempts: int = 5
    validity_seconds: int = 3600  # Twilio drops a message still queued after this long
    batch_size: int = 20
    lease_seconds: int = 120  # a row "sending" longer than this is checked by recovery
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0


@dataclass(frozen=True)
class EscalationStep:
    after_hours: float  # since the previous contact (the first step: since planning)
    channel: str | None = None  # "sms" or "voice" ...
    action: str | None = None  # ... or "callback": hand to the advisors' queue


@dataclass(frozen=True)
class Scheduling:
    """When the scheduler runs its jobs (``[scheduler]``), in the dealership's time zone."""

    campaigns_at: time = time(9, 30)
    confirmations_at: time = time(10, 0)
    dispatch_seconds: int = 5
    escalation_minutes: int = 15
    recovery_minutes: int = 1
    misfire_grace_seconds: int = 300


DEFAULT_ESCALATION = (
    EscalationStep(0, channel="sms"),
    EscalationStep(48, channel="voice"),
    EscalationStep(24, channel="voice"),
    EscalationStep(24, action="callback"),
)
# A follow-up after a visit asks once: nobody is called, or queued for an advisor, for not
# rating their visit.
FOLLOWUP_ESCALATION = (EscalationStep(0, channel="sms"),)


@dataclass(frozen=True)
class Campaigns:
    maintenance_interval: MaintenanceInterval = MaintenanceInterval()
    deferred_work: DeferredWork = DeferredWork()
    seasonal: Seasonal = Seasonal()
    post_service_followup: PostServiceFollowup = PostServiceFollowup()


@dataclass(frozen=True)
class Conversation:
    """``[conversation]``: an open conversation with no activity this long is closed."""

    stale_after_hours: int = 72


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str | None
    messaging_service_sid: str | None
    api_base_url: str | None = None
    http_timeout_seconds: float = 10.0  # the SDK waits forever by default
    machine_detection: str = "Enable"  # calls: tell a person from voicemail (AnsweredBy)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path = DEFAULT_CONFIG
    dealership: Dealership = Dealership()
    import_defaults: ImportDefaults = ImportDefaults()
    campaigns: Campaigns = Campaigns()
    rules: ContactRules = ContactRules()
    contact_window: ContactWindow = ContactWindow()
    sending: Sending = Sending()
    scheduling: Scheduling = Scheduling()
    escalation: dict[str, tuple[EscalationStep, ...]] = field(
        default_factory=lambda: {"default": DEFAULT_ESCALATION}
    )
    scripts_override_dir: Path | None = None
    twilio: TwilioSettings | None = None
    public_base_url: str = "http://localhost:5000"
    # Signs webhook requests in sandbox mode (no Twilio account): `outreach simulate` uses it.
    sandbox_auth_token: str = "sandbox-auth-token"  # noqa: S105 - a documented demo value
    secret_key: str = "dev-only-not-secret"  # noqa: S105 - replaced by OUTREACH_SECRET_KEY in production
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    conversation: Conversation = Conversation()
    # [gateway]: which provider carries SMS and calls (see outreach.gateway_config).
    gateway_choice: GatewayChoice = field(default_factory=GatewayChoice)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return self.dealership.tz

    def escalation_plan(self, campaign: str) -> tuple[EscalationStep, ...]:
        """The campaign's escalation plan, or the default one."""
        return self.escalation.get(campaign) or self.escalation["default"]

    @property
    def gateway(self) -> str:
        """The SMS provider: ``[gateway] sms``, else Twilio when configured, else the sandbox."""
        if self.gateway_choice.sms is not None:
            return self.gateway_choice.sms
        return "twilio" if self.twilio else "sandbox"


def load_settings(environ: dict[str, str] | Any) -> Settings:
    """Build settings from ``environ`` (``DATABASE_URL``, ``OUTREACH_CONFIG``, ``TWILIO_*`` …)."""
    path = Path(environ.get("OUTREACH_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"OUTREACH_CONFIG: no such file {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start + 1}): save the file as UTF-8 "
            "(most editors: Save As, encoding UTF-8)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"OUTREACH_CONFIG: {path} is a folder, not a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    settings = parse_config(raw, path)
    twilio = None
    sid, token = environ.get("TWILIO_ACCOUNT_SID"), environ.get("TWILIO_AUTH_TOKEN")
    if sid or token:
        if not (sid and token):
            raise ConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together")
        sender = environ.get("TWILIO_FROM") or None
        service = environ.get("TWILIO_MESSAGING_SERVICE_SID") or None
        if not (sender or service):
            raise ConfigError("set TWILIO_FROM (an E.164 number) or TWILIO_MESSAGING_SERVICE_SID")
        twilio = TwilioSettings(
            sid,
            token,
            sender,
            service,
            environ.get("TWILIO_API_BASE_URL") or None,
            http_timeout_seconds=_seconds(environ, "TWILIO_HTTP_TIMEOUT", 10.0),
        )
    return _replace(
        settings,
        database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        twilio=twilio,
        public_base_url=(environ.get("PUBLIC_BASE_URL") or settings.public_base_url).rstrip("/"),
        secret_key=environ.get("OUTREACH_SECRET_KEY") or settings.secret_key,
        sandbox_auth_token=environ.get("OUTREACH_SANDBOX_AUTH_TOKEN")
        or settings.sandbox_auth_token,
        gateway_choice=with_environment(settings.gateway_choice, environ),
    )


def _seconds(environ: dict[str, str] | Any, key: str, default: float) -> float:
    raw = environ.get(key)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ConfigError(f"{key} must be a number of seconds > 0, got {raw!r}")
    return value


def parse_config(raw: dict[str, Any], path: Path = DEFAULT_CONFIG) -> Settings:
    """Validate a parsed TOML document into :class:`Settings`; an unknown key is an error."""
    return read_config(ConfigReader(raw, str(path)), path)


def effective_config(settings: Settings) -> list[str]:
    """The configuration in force, one ``key = value`` line per key, defaults marked."""
    reader = ConfigReader(settings.raw, str(settings.config_path))
    read_config(reader, settings.config_path)
    return list(reader.effective())


def read_config(r: ConfigReader, path: Path) -> Settings:
    """Every section of the dealership's file, read through ``r``, then no key left unread."""
    raw = r.raw
    d = Dealership()
    dealership = Dealership(
        name=r.text("dealership.name", d.name),
        timezone=r.zone("dealership.timezone", d.timezone),
        country=r.text("dealership.country", d.country),
        phone=r.text("dealership.phone", d.phone),
        address=r.text("dealership.address", d.address),
        default_locale=r.choice("dealership.default_locale", d.default_locale, LOCALES),
        special_services={
            loc: r.str_list(f"dealership.special_services.{loc}", []) for loc in LOCALES
        },
        names={loc: v for loc in LOCALES if (v := r.text(f"dealership.names.{loc}", ""))},
        addresses={loc: v for loc in LOCALES if (v := r.text(f"dealership.addresses.{loc}", ""))},
    )
    i = ImportDefaults(timezone=dealership.timezone)
    imports = ImportDefaults(
        phone_region=r.text("import.phone_region", dealership.country),
        consent=r.flag("import.default_consent", i.consent),
        timezone=r.zone("import.default_timezone", i.timezone),
        preferred_channel=r.choice("import.default_channel", i.preferred_channel, CHANNELS),
    )
    m = MaintenanceInterval()
    p = "campaigns.maintenance_interval"
    maintenance = MaintenanceInterval(
        enabled=r.flag(f"{p}.enabled", m.enabled),
        interval_months=r.integer(f"{p}.interval_months", m.interval_months, minimum=1),
        interval_km=r.integer(f"{p}.interval_km", m.interval_km, minimum=1),
        lead_days=r.integer(f"{p}.lead_days", m.lead_days, minimum=0),
        default_km_per_day=r.integer(f"{p}.default_km_per_day", m.default_km_per_day, minimum=1),
    )
    dw = DeferredWork()
    p = "campaigns.deferred_work"
    deferred = DeferredWork(
        enabled=r.flag(f"{p}.enabled", dw.enabled),
        lead_days=r.integer(f"{p}.lead_days", dw.lead_days, minimum=0),
        severities=tuple(r.str_list(f"{p}.severities", list(dw.severities))),
    )
    p = "campaigns.seasonal"
    windows = []
    for n, w in enumerate(r.get(f"{p}.windows", [])):
        key = f"{p}.windows[{n}]"
        wr = r.table(key, w)
        windows.append(
            SeasonalWindow(
                name=wr.text("name", None),
                title={loc: wr.text(f"title.{loc}", wr.text("name", None)) for loc in LOCALES},
                start=wr.month_day("start"),
                end=wr.month_day("end"),
                min_vehicle_age_years=wr.integer("min_vehicle_age_years", 0, minimum=0),
            )
        )
    names = [w.name for w in windows]
    if len(set(names)) != len(names):
        raise ConfigError(f"{r.where}: {p}.windows names must be unique, got {names}")
    seasonal = Seasonal(enabled=r.flag(f"{p}.enabled", True), windows=tuple(windows))
    f = PostServiceFollowup()
    p = "campaigns.post_service_followup"
    followup = PostServiceFollowup(
        enabled=r.flag(f"{p}.enabled", f.enabled),
        after_days_min=r.integer(f"{p}.after_days_min", f.after_days_min, minimum=0),
        after_days_max=r.integer(f"{p}.after_days_max", f.after_days_max, minimum=0),
        visit_types=tuple(r.str_list(f"{p}.visit_types", list(f.visit_types))),
    )
    if followup.after_days_max < followup.after_days_min:
        raise ConfigError(f"{r.where}: {p}.after_days_max must be >= after_days_min")
    c = ContactRules()
    rules = ContactRules(
        cooldown_days_after_decline=r.integer(
            "contact_rules.cooldown_days_after_decline", c.cooldown_days_after_decline, minimum=0
        ),
        max_contacts_per_30_days=r.integer(
            "contact_rules.max_contacts_per_30_days", c.max_contacts_per_30_days, minimum=1
        ),
    )
    cw = ContactWindow()
    window = ContactWindow(
        start=r.clock("contact_window.start", cw.start),
        end=r.clock("contact_window.end", cw.end),
        weekends=r.flag("contact_window.weekends", cw.weekends),
        holidays=r.flag("contact_window.holidays", cw.holidays),
        reply_minutes=r.integer("contact_window.reply_minutes", cw.reply_minutes, minimum=0),
    )
    if window.end <= window.start:
        raise ConfigError(f"{r.where}: contact_window.end must be later than contact_window.start")
    sending, scheduling, escalation = _parse_delivery(r)
    override = r.text("scripts.override_dir", "")
    override_dir = None
    if override:
        override_dir = Path(override)
        if not override_dir.is_absolute():
            override_dir = path.parent / override_dir
    settings = Settings(
        config_path=path,
        dealership=dealership,
        import_defaults=imports,
        campaigns=Campaigns(maintenance, deferred, seasonal, followup),
        rules=rules,
        contact_window=window,
        sending=sending,
        scheduling=scheduling,
        escalation=escalation,
        scripts_override_dir=override_dir,
        public_base_url=r.text("web.public_base_url", Settings.public_base_url),
        capacity=parse_capacity(r),
        conversation=Conversation(
            stale_after_hours=r.integer(
                "conversation.stale_after_hours", Conversation.stale_after_hours, minimum=1
            )
        ),
        gateway_choice=parse_gateway(r),
        raw=raw,
    )
    r.check_unknown()
    return settings


def _parse_delivery(
    r: ConfigReader,
) -> tuple[Sending, Scheduling, dict[str, tuple[EscalationStep, ...]]]:
    """The ``[sending]``, ``[scheduler]`` and ``[escalation]`` sections."""
    d = Sending()
    rate = r.get("sending.rate_per_second", d.rate_per_second)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise r.fail("sending.rate_per_second", "a number > 0", rate)
    sending = Sending(
        rate_per_second=float(rate),
        max_attempts=r.integer("sending.max_attempts", d.max_attempts, minimum=1),
        validity_seconds=r.integer("sending.validity_seconds", d.validity_seconds, minimum=1),
        batch_size=r.integer("sending.batch_size", d.batch_size, minimum=1),
        lease_seconds=r.integer("sending.lease_seconds", d.lease_seconds, minimum=1),
        backoff_base_seconds=r.integer(
            "sending.backoff_base_seconds", int(d.backoff_base_seconds), minimum=1
        ),
        backoff_max_seconds=r.integer(
            "sending.backoff_max_seconds", int(d.backoff_max_seconds), minimum=1
        ),
    )
    s = Scheduling()
    scheduling = Scheduling(
        campaigns_at=r.clock("scheduler.campaigns_at", s.campaigns_at),
        confirmations_at=r.clock("scheduler.confirmations_at", s.confirmations_at),
        dispatch_seconds=r.integer("scheduler.dispatch_seconds", s.dispatch_seconds, minimum=1),
        escalation_minutes=r.integer(
            "scheduler.escalation_minutes", s.escalation_minutes, minimum=1
        ),
        recovery_minutes=r.integer("scheduler.recovery_minutes", s.recovery_minutes, minimum=1),
        misfire_grace_seconds=r.integer(
            "scheduler.misfire_grace_seconds", s.misfire_grace_seconds, minimum=1
        ),
    )
    plans: dict[str, tuple[EscalationStep, ...]] = {
        "default": DEFAULT_ESCALATION,
        "post_service_followup": FOLLOWUP_ESCALATION,
    }
    raw = r.get("escalation", {})
    if not isinstance(raw, dict):
        raise r.fail("escalation", "a table of campaign = [steps]", raw)
    for campaign, steps in raw.items():
        key = f"escalation.{campaign}"
        if not isinstance(steps, list) or not steps:
            raise r.fail(key, "a non-empty list of {after_hours, channel|action} tables", steps)
        plan = []
        for n, step in enumerate(steps):
            sr = r.table(f"{key}[{n}]", step)
            hours = sr.get("after_hours", 0)
            if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
                raise sr.fail("after_hours", "a number of hours >= 0", hours)
            channel = sr.get("channel", None)
            action = sr.get("action", None)
            if (channel is None) == (action is None):
                raise sr.fail("channel/action", 'either channel ("sms"/"voice") or action', step)
            if channel is not None and channel not in CHANNELS:
                raise sr.fail("channel", "one of " + ", ".join(CHANNELS), channel)
            if action is not None and action != "callback":
                raise sr.fail("action", '"callback"', action)
            plan.append(EscalationStep(float(hours), channel=channel, action=action))
        plans[campaign] = tuple(plan)
    return sending, scheduling, plans


def _replace(settings: Settings, **changes: Any) -> Settings:
    from dataclasses import replace

    return replace(settings, **changes)
