"""Pacing: one message a second to a chat, thirty a second overall, and Telegram's retry_after."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.pacing import Pacing, SendLimits
from tests.unit.test_sender import FakeTime


def _send(pacing: Pacing, chat_id: int) -> None:
    assert pacing.wait_for(chat_id) == 0.0
    pacing.sending(chat_id)


def test_one_message_a_second_to_each_chat() -> None:
    time = FakeTime()
    pacing = Pacing(SendLimits(margin=0.0), time)
    _send(pacing, 1)
    assert pacing.wait_for(1) == 1.0
    _send(pacing, 2)  # another chat need not wait
    time.advance(0.4)
    assert pacing.wait_for(1) == pytest.approx(0.6)
    time.advance(0.6)
    _send(pacing, 1)


def _send_as_soon_as_allowed(pacing: Pacing, time: FakeTime, seconds: float) -> list[float]:
    """Every chat a different one, each message the moment the pacing lets it go: when each went."""
    started, sent = time(), list[float]()
    for chat in range(1000, 10_000):  # chats no other message of the test went to
        time.advance(pacing.wait_for(chat))
        if time() - started >= seconds:
            return sent
        _send(pacing, chat)
        sent.append(time())
    return sent


def test_at_most_thirty_in_any_one_second_and_no_fewer_when_there_is_more_to_send() -> None:
    time = FakeTime()
    pacing = Pacing(SendLimits(margin=0.0), time)
    sent = _send_as_soon_as_allowed(pacing, time, 10.0)
    assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) == 30
    assert len(sent) >= 299


def test_they_go_spread_over_the_second_a_few_at_a_time_not_all_thirty_at_once() -> None:
    time = FakeTime()
    pacing = Pacing(SendLimits(margin=0.0), time)
    for chat in range(3):
        _send(pacing, chat)
    assert pacing.wait_for(99) == pytest.approx(1 / 30)  # a card coming now waits a thirtieth, not a second
    sent = _send_as_soon_as_allowed(pacing, time, 2.0)
    assert max(Counter(sent).values()) <= 3  # never more than three at once
    assert max(sum(1 for t in sent if start <= t < start + 0.25) for start in sent) <= 3 + 0.25 * 30


def test_a_few_may_go_at_once_to_make_up_for_a_timer_that_fired_late() -> None:
    time = FakeTime()
    pacing = Pacing(SendLimits(margin=0.0), time)
    _send_as_soon_as_allowed(pacing, time, 1.0)
    time.advance(0.1)  # the sender's timer came a tenth of a second late
    for chat in range(3):
        _send(pacing, chat)
    assert pacing.wait_for(99) > 0


def test_retry_after_holds_the_chat_exactly_that_long_and_a_backoff_never_cuts_it_short() -> None:
    time = FakeTime()
    pacing = Pacing.unpaced(time)
    pacing.told_to_wait(1, 7)
    pacing.hold(1, 0.5)
    assert pacing.wait_for(1) == 7
    assert pacing.wait_for(2) == 0
    time.advance(7)
    assert pacing.wait_for(1) == 0


def test_several_chats_told_to_wait_at_once_hold_the_whole_bot() -> None:
    time = FakeTime()
    pacing = Pacing.unpaced(time)
    pacing.told_to_wait(1, 5)
    time.advance(0.4)
    pacing.told_to_wait(2, 5)
    assert pacing.wait_for(9) == 0  # two chats may be two busy chats
    time.advance(0.4)
    pacing.told_to_wait(3, 10)
    assert pacing.wait_for(9) == 10  # three in a second: the bot as a whole goes too fast
    assert pacing.wait_for(1) == pytest.approx(10)


def test_chats_told_to_wait_far_apart_hold_only_themselves() -> None:
    time = FakeTime()
    pacing = Pacing.unpaced(time)
    for chat in (1, 2, 3):
        pacing.told_to_wait(chat, 30)
        time.advance(0.6)
    assert pacing.wait_for(9) == 0


def test_both_limits_keep_a_little_time_to_spare_for_requests_arriving_unevenly() -> None:
    time = FakeTime()
    pacing = Pacing(SendLimits(margin=0.05), time)
    _send(pacing, 0)
    assert pacing.wait_for(0) == pytest.approx(1.05)
    sent = _send_as_soon_as_allowed(pacing, time, 5.0)
    assert max(sum(1 for t in sent if start <= t < start + 1.05) for start in sent) == 30
    pacing.told_to_wait(99, 3)  # what Telegram says is waited exactly
    time.advance(1.05)
    assert pacing.wait_for(99) == pytest.approx(1.95)
