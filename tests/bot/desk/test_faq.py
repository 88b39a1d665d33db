from __future__ import annotations

from pathlib import Path

from bot.desk.faq import Answer, FaqIndex, load_answers
from bot.settings import ROOT


def test_every_faq_answer_in_the_domain_is_searchable() -> None:
    answers = load_answers(ROOT / "domain.yml")
    topics = {a.topic for a in answers}
    assert len(topics) >= 30 and all(a.text for a in answers)
    # each topic once in each of the bot's languages
    assert sorted((a.topic, a.language) for a in answers) == sorted(
        (topic, language) for topic in topics for language in ("en", "vi", "id", "zh")
    )


def test_ranking_prefers_the_topic_and_is_deterministic() -> None:
    index = FaqIndex(load_answers(ROOT / "domain.yml"))
    first = [a.topic for a in index.search("refund timing card")]
    assert first[0] == "refund_timing"
    assert first == [a.topic for a in index.search("refund timing card")]
    assert index.search("") == []


def test_answers_in_other_languages_are_kept_apart(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n"
        "  utter_faq/shipping_cost:\n"
        '    - text: "Shipping is free over $49."\n'
        '    - text: "El envío es gratis desde 49 $."\n'
        "      condition: [{type: slot, name: language, value: es}]\n"
        "  utter_greet:\n"
        '    - text: "Hi"\n'
    )
    index = FaqIndex(load_answers(domain))
    assert index.search("shipping") == [Answer("shipping_cost", "Shipping is free over $49.", "en")]
    assert [a.language for a in index.search("shipping envío", language="es")] == ["es"]


def test_answers_are_found_in_vietnamese_with_or_without_tones_and_in_chinese() -> None:
    index = FaqIndex(load_answers(ROOT / "domain.yml"))
    for query, language in [("phí giao hàng", "vi"), ("phi giao hang", "vi"), ("免费配送", "zh")]:
        found = [a.topic for a in index.search(query, language)]
        assert "shipping_cost" in found[:3], (query, found)
