"""The live threads' events (console.live.events) as Textual messages: the one adapter.

Each event reaches the UI thread wrapped in the message of the same name, so Textual calls
the handler of that name (`on_records_arrived` for RecordsArrived); the handler reads the
event from `message.event`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.message import Message
from textual.message_pump import MessagePump

from console.live import events
from console.live.events import LiveEvent, Post

E = TypeVar("E")


class LiveMessage(Message, Generic[E]):
    """An event from a console.live thread, posted to the UI thread."""

    def __init__(self, event: E) -> None:
        super().__init__()
        self.event = event


class HistoryLoaded(LiveMessage[events.HistoryLoaded]):
    pass


class RecordsArrived(LiveMessage[events.RecordsArrived]):
    pass


class IngestFailed(LiveMessage[events.IngestFailed]):
    pass


class StoreTrouble(LiveMessage[events.StoreTrouble]):
    pass


class StoreUpgraded(LiveMessage[events.StoreUpgraded]):
    pass


class ReceiverState(LiveMessage[events.ReceiverState]):
    pass


class HistoryProgress(LiveMessage[events.HistoryProgress]):
    pass


class ReportReady(LiveMessage[events.ReportReady]):
    pass


class CompareReady(LiveMessage[events.CompareReady]):
    pass


class RequestIdsLoaded(LiveMessage[events.RequestIdsLoaded]):
    pass


class RequestPageLoaded(LiveMessage[events.RequestPageLoaded]):
    pass


class RequestsPagerFailed(LiveMessage[events.RequestsPagerFailed]):
    pass


class ScoringProgress(LiveMessage[events.ScoringProgress]):
    pass


class QueueReady(LiveMessage[events.QueueReady]):
    pass


class LabelDone(LiveMessage[events.LabelDone]):
    pass


class LabelFound(LiveMessage[events.LabelFound]):
    pass


class EvaluationNotice(LiveMessage[events.EvaluationNotice]):
    pass


class CaseEditReady(LiveMessage[events.CaseEditReady]):
    pass


class NotifyPending(LiveMessage[events.NotifyPending]):
    pass


# each event type -> the message of its name (every event has one: checked at import)
_MESSAGE_FOR: dict[type, type[LiveMessage]] = {
    getattr(events, message.__name__): message for message in LiveMessage.__subclasses__()
}
assert set(_MESSAGE_FOR) == set(events.EVENT_TYPES), "an event without its message"


def to_message(event: LiveEvent) -> LiveMessage:
    return _MESSAGE_FOR[type(event)](event)


def poster(target: MessagePump) -> Post:
    """The `post` a live thread is given: its events reach `target` (the app, a widget) as
    messages. post_message is looked up at each call (tests wrap it on the instance)."""
    return lambda event: target.post_message(to_message(event))
