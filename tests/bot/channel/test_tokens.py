from __future__ import annotations

import pytest

from bot.channel import tokens

SECRET = "s" * 40


def test_a_token_opens_its_own_conversation_only() -> None:
    token, expires = tokens.issue(SECRET, "conv-1", now=1000)
    assert expires == 1000 + tokens.LIFETIME_SECONDS
    tokens.verify(SECRET, "conv-1", token, now=2000)
    with pytest.raises(tokens.InvalidToken, match="does not belong"):
        tokens.verify(SECRET, "conv-2", token, now=2000)


@pytest.mark.parametrize("forged", ["", "abc", "123.", ".sig", "99999999999.c2ln"])
def test_malformed_or_forged_tokens_are_refused(forged: str) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(SECRET, "conv-1", forged, now=1000)


def test_expired_tokens_and_other_secrets_are_refused() -> None:
    token, expires = tokens.issue(SECRET, "conv-1", now=1000)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(SECRET, "conv-1", token, now=expires + 1)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify("x" * 40, "conv-1", token, now=1000)
