"""What the gateway refuses (gateway/screening.py)."""

from gateway.screening import rejection_reason


def test_deeply_nested_json_is_refused_not_a_crash():
    assert rejection_reason(b"[" * 60_000, 65_536) == "not JSON this service can read: nested too deeply"
