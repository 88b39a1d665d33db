"""domain.yml's responses speak every language the bot serves, and say the same facts in each.

Every response has its English default (no condition) and one variation per other language
(a condition on the `language` slot only); each translation has the same numbers (prices, times,
hours, percentages, phone numbers), addresses and {placeholders} as the English, and the same
buttons: a title in its language each, the English payloads unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.translations import LANGUAGES, disagreements

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]


def language_of(variation: dict[str, Any]) -> str:
    """The variation's language: English without a condition, else its one language condition."""
    condition = variation.get("condition")
    if condition is None:
        return "en"
    [only] = condition
    assert only["type"] == "slot" and only["name"] == "language", condition
    return str(only["value"])


def by_language(name: str) -> dict[str, dict[str, Any]]:
    variations = RESPONSES[name]
    languages = [language_of(v) for v in variations]
    assert len(set(languages)) == len(languages), f"{name}: two variations for one language"
    return dict(zip(languages, variations, strict=True))


def test_the_language_slot_offers_every_language_with_english_first() -> None:
    slot = DOMAIN["slots"]["language"]
    assert tuple(slot["values"]) == LANGUAGES and slot["initial_value"] == "en"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_a_variation_per_language(name: str) -> None:
    variations = by_language(name)
    assert tuple(variations) == LANGUAGES  # English first: the default when no condition holds
    texts = [v["text"].strip() for v in variations.values()]
    assert all(texts) and len(set(texts)) == len(texts), f"{name}: an empty or untranslated text"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_each_translation_says_the_same_numbers_addresses_and_placeholders(name: str) -> None:
    variations = by_language(name)
    english = variations["en"]["text"]
    for language in LANGUAGES[1:]:
        assert disagreements(english, variations[language]["text"]) == [], (name, language)


@pytest.mark.parametrize("name", sorted(n for n, v in RESPONSES.items() if v[0].get("buttons")))
def test_buttons_are_translated_and_keep_their_payloads(name: str) -> None:
    variations = by_language(name)
    english = variations["en"]["buttons"]
    for language in LANGUAGES[1:]:
        buttons = variations[language].get("buttons") or []
        assert [b["payload"] for b in buttons] == [b["payload"] for b in english], language
        titles = [b["title"] for b in buttons]
        assert all(titles) and not set(titles) & {b["title"] for b in english}, (name, language)


def test_the_check_sees_a_wrong_price_a_lost_time_and_a_lost_placeholder() -> None:
    english = "Express is $12.99 by 1 pm ET; order {order_id}, or e-mail help@fetchandhome.example."
    same = "加急$12.99 下午1点前 订单 {order_id} 或发邮件至help@fetchandhome.example"
    assert disagreements(english, same) == []
    for wrong in [
        "Giao nhanh $12.90 trước 1 giờ chiều; đơn {order_id}, help@fetchandhome.example",
        "Express $12.99; pesanan {order_id}, help@fetchandhome.example",  # the hour lost
        "Express $12.99 pukul 1 siang; help@fetchandhome.example",  # the placeholder lost
        "加急$12.99 下午1点前 订单 {order_id} 发邮件至 help@fetchandhome.cn",  # another address
        same.replace("1", "\uff11"),  # a full-width digit is not the same fact
    ]:
        assert disagreements(english, wrong), wrong
