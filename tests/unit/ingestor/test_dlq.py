"""Pure parts of the DLQ tools: selectors, re-drive batches and the headers a re-drive carries back."""

from stomp.utils import Frame

from ingestor import dlq


def _frame(message_id: str, **headers: str) -> tuple[Frame, int]:
    return Frame("MESSAGE", {"message-id": message_id, "ack": message_id, **headers}, b"{}"), 1


def test_selector_quotes_values_and_finds_one_id():
    assert dlq.selector(reason="it's", stage="parse") == "dlq_reason LIKE '%it''s%' AND dlq_stage = 'parse'"
    assert dlq.selector(message_id="ID:a:-1:1") == "JMSMessageID = 'ID:a:-1:1'"
    assert dlq.selector() is None


def test_batches_stop_at_the_first_message_not_in_the_snapshot(monkeypatch):
    monkeypatch.setattr(dlq, "REDRIVE_BATCH", 2)
    frames = iter([_frame("a"), _frame("b"), _frame("c"), _frame("new"), _frame("d")])
    batches = [[f.headers["message-id"] for f, _ in b] for b in dlq._batches(frames, {"a", "b", "c", "d"})]
    assert batches == [["a", "b"], ["c"]]


def test_batches_end_once_every_wanted_message_was_seen():
    frames = iter([_frame("a"), _frame("b")])
    assert len(list(dlq._batches(frames, {"a"}))) == 1
