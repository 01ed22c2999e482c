"""Errors of the publishing domain."""

from __future__ import annotations

from hookline.errors import HooklineError, InvalidInput


class ChannelNeedsReconnect(HooklineError):
    """The channel's tokens are missing, undecryptable or refused: a person must reconnect."""

    status = 409


class Refused(InvalidInput):
    """A publication was refused at scheduling: the message lists every reason."""

    status = 422

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("Cannot schedule this: " + "; ".join(reasons), detail={"reasons": reasons})
        self.reasons = reasons
