"""``outreach eval replies``: play labelled replies end to end and score the understanding.

Each reply runs against a scratch SQLite database (the migrations, the example dealership),
with the customer put in the reply's state, through the real webhooks app and its Twilio
signature check; the verdict comes from what the reply changed.  See the README's
"Evaluating the understanding".
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask
from twilio.request_validator import RequestValidator

from outreach.conversation import model
from outreach.evaluation.corpus import CorpusError, load
from outreach.evaluation.play import Player, PlayError
from outreach.evaluation.report import Scores
from outreach.evaluation.stage import Scratch, StageError, played_at
from outreach.settings import DEFAULT_CONFIG, ConfigError, Settings, load_settings
from webhooks import ENGINE_KEY, create_app
from webhooks.signed import credentials

commands: list[click.Command] = []
# A base URL of our own: the run never depends on PUBLIC_BASE_URL or a Twilio account.
EVAL_BASE_URL = "https://replies.eval.invalid"


class SignedClient:
    """The webhooks app's test client, each request signed as Twilio signs it."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.client = app.test_client()
        self.account, token = credentials(settings)
        self.validator = RequestValidator(token)
        self.base = settings.public_base_url

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = {"AccountSid": self.account, **form}
        signature = self.validator.compute_signature(f"{self.base}{path}", data)
        response = self.client.post(path, data=data, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)


@contextmanager
def quiet_webhooks() -> Iterator[None]:
    """The app logs each fallback it answers; the report lists those replies already."""
    logger = logging.getLogger("webhooks")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def playing(config: Path) -> Iterator[Player]:
    """A player on a fresh scratch database and the webhooks app for the dealership ``config``."""
    try:
        base = load_settings({"OUTREACH_CONFIG": str(config)})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="outreach-eval-") as directory:
        scratch = Scratch(Path(directory))
        settings = replace(base, database_url=scratch.url, public_base_url=EVAL_BASE_URL)
        now = played_at(settings)
        web = create_app(
            settings,
            test_config={"CLOCK": lambda: now, "SECRET_KEY": "outreach-eval-scratch-database"},
        )
        try:
            with quiet_webhooks():
                yield Player(settings, scratch, SignedClient(web, settings))
        finally:
            web.extensions[ENGINE_KEY].dispose()
            scratch.close()


def run(paths: list[Path], config: Path, min_accuracy: float) -> Scores:
    """Load the files, play every reply on a scratch database, and score them."""
    replies = load(paths)
    with playing(config) as player:
        try:
            verdicts = player.play_all(replies)
        except (StageError, PlayError) as exc:
            raise click.ClickException(str(exc)) from None
    return Scores(verdicts, min_accuracy)


@click.group("eval")
def eval_group() -> None:
    """Measure how well the conversation understands customers."""


@eval_group.command("replies")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--min-accuracy", default=98.0, show_default=True, type=click.FloatRange(0, 100),
    help="Fail (exit 1) below this share of right replies, in percent.",
)  # fmt: skip
@click.option(
    "--config", "config", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The dealership the replies are played against.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def replies_command(
    files: tuple[Path, ...], min_accuracy: float, config: Path, as_json: bool
) -> None:
    """Play labelled replies (JSON lines) end to end and print the scores and every miss.

    Exits 1 below --min-accuracy, when an opt-out was not honoured or a complaint was not
    queued for a person; a malformed corpus line stops the run naming its file and line.
    """
    try:
        scores = run(list(files), config, min_accuracy)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(scores.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(scores.as_text())
    if scores.failures():
        raise SystemExit(1)


@eval_group.command("train")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=model.PATH,
    show_default=True, help="Where to write the model.",
)  # fmt: skip
def train_command(files: tuple[Path, ...], out: Path) -> None:
    """Train the reply model on labelled replies (the corpus) and write it.

    The understanding asks it after its rules (see conversation/trust.py); ship it retrained
    whenever the corpus changes (a test checks the shipped model is the corpus's).  Never train
    on held-out files.
    """
    try:
        replies = load(list(files))
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    model.write(model.train((r.text, r.state, r.intent) for r in replies), out)
    click.echo(f"trained on {len(replies)} replies: {out}")


commands.append(eval_group)
