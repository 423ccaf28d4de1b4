"""The sync seam the app sees: listeners that survive a failing one, the status's online."""

from __future__ import annotations

import logging

import pytest

from floor_app.hub_sync import LinkState, Listeners, SyncStatus


def test_a_failing_listener_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[int] = []
    acked: Listeners[int] = Listeners("acked")

    def broken(_up_to: int) -> None:
        raise RuntimeError("broken screen")

    acked.add(broken)
    acked.add(heard.append)
    with caplog.at_level(logging.ERROR, logger="floor.sync"):
        acked.tell(7)
        acked.tell(8)
    assert heard == [7, 8]
    assert [r.getMessage() for r in caplog.records] == ["a acked listener failed"] * 2


@pytest.mark.parametrize("state", list(LinkState))
def test_only_an_online_link_is_online(state: LinkState) -> None:
    assert SyncStatus(state).online is (state is LinkState.ONLINE)
