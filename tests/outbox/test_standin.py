"""The product's TwilioGateway against the local Twilio stand-in (TWILIO_API_BASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from outreach.gateway import GatewayError
from outreach.settings import Settings
from outreach.twilio_gateway import TwilioGateway
from tests.fakes.twilio_standin import StandIn, standin_settings, start_standin, stop_standin

TO = "+8613900000001"


@pytest.fixture
def standin(settings: Settings) -> Iterator[tuple[StandIn, TwilioGateway]]:
    server, state, base = start_standin()
    try:
        yield state, TwilioGateway(standin_settings(settings, base))
    finally:
        stop_standin(server)


def sms(gateway: TwilioGateway, body: str, to: str = TO):  # type: ignore[no-untyped-def]
    return gateway.send_sms(to, body, status_callback=None, validity_seconds=600)


class TestStandIn:
    def test_create_goes_to_the_standin(self, standin):
        """A message created by the SDK lands at the stand-in with its SID returned."""
        state, gateway = standin
        result = sms(gateway, "hello")
        assert [(c.kind, c.to, c.body, c.sid) for c in state.created] == [
            ("Messages", TO, "hello", result.sid)
        ]

    def test_call_create_goes_to_the_standin(self, standin):
        """A call placed by the SDK lands at the stand-in as a Calls resource."""
        state, gateway = standin
        result = gateway.place_call(TO, answer_url="https://h/twilio/voice", status_callback=None)
        assert state.count("Calls") == 1 and result.sid.startswith("CA")

    def test_find_sent_finds_an_earlier_message(self, standin):
        """The oldest of 120 messages to one number is found by its body."""
        _state, gateway = standin
        since = datetime.now(UTC) - timedelta(seconds=5)
        first = sms(gateway, "the first")
        for n in range(119):
            sms(gateway, f"later {n}")
        assert gateway.find_sent(TO, "the first", since).sid == first.sid  # type: ignore[union-attr]

    def test_list_follows_next_page_uri(self, standin):
        """The SDK's list walks the stand-in's pages (PageSize, next_page_uri), newest first."""
        state, gateway = standin
        sids = [sms(gateway, f"m{n}").sid for n in range(120)]
        listed = gateway.client.messages.list(to=TO, page_size=50)
        assert [m.sid for m in listed] == sids[::-1]
        assert len([p for m, p in state.requests if m == "GET"]) == 3

    def test_find_sent_misses_other_numbers_and_bodies(self, standin):
        """A look-up finds nothing for a body never sent to that number."""
        _state, gateway = standin
        sms(gateway, "hello", to="+8613900000002")
        assert gateway.find_sent(TO, "hello", datetime.now(UTC) - timedelta(seconds=5)) is None

    def test_429_is_retryable_and_500_ambiguous(self, standin):
        """The stand-in's refusals reach the sender as the SDK reports Twilio's."""
        state, gateway = standin
        state.fail_next = [429, 500]
        with pytest.raises(GatewayError) as busy:
            sms(gateway, "a")
        with pytest.raises(GatewayError) as broken:
            sms(gateway, "b")
        assert (busy.value.kind, broken.value.kind) == ("retryable", "ambiguous")
