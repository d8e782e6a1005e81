"""Who adopts an offline member's session: pure logic of the group view."""

from finemeca.naming import GATEWAY_OFFLINE, GATEWAY_ONLINE
from gateway.handover import GroupView


def test_the_smallest_live_member_adopts_every_orphan():
    a, b = GroupView("gw-a"), GroupView("gw-b")
    for view in (a, b):
        view.update("gw-a", GATEWAY_ONLINE)
        view.update("gw-b", GATEWAY_ONLINE)
        view.update("gw-c", GATEWAY_OFFLINE)
    assert a.mine_to_adopt() == ["gw-c"]
    assert b.mine_to_adopt() == []


def test_the_next_member_takes_over_when_the_adopter_dies_too():
    b = GroupView("gw-b")
    b.update("gw-a", GATEWAY_ONLINE)
    b.update("gw-c", GATEWAY_OFFLINE)
    assert b.mine_to_adopt() == []
    b.update("gw-a", GATEWAY_OFFLINE)
    assert b.mine_to_adopt() == ["gw-a", "gw-c"]


def test_an_owner_back_online_or_a_cleared_status_is_no_orphan():
    a = GroupView("gw-a")
    a.update("gw-b", GATEWAY_OFFLINE)
    a.update("gw-c", GATEWAY_OFFLINE)
    a.update("gw-b", GATEWAY_ONLINE)
    a.update("gw-c", b"")
    assert a.mine_to_adopt() == []
    assert a.online == {"gw-b"}


def test_own_status_is_ignored():
    a = GroupView("gw-a")
    a.update("gw-a", GATEWAY_OFFLINE)
    assert a.mine_to_adopt() == [] and a.orphans == set()
