"""The booking conversation: understand a reply, move the outreach along, answer."""

from outreach.conversation.understand import Intent, understand

__all__ = ["Intent", "understand"]
