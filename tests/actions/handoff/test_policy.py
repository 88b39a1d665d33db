"""policy.yml, the one loader: errors name the file, the key and what was expected.

The handoff's sections (rules, signals, understanding, explicit requests) and the bot service's
(desk, authority, service messages), validated whenever either side starts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.handoff.policy import (
    ROOT,
    SERVICE_MESSAGES,
    PolicyError,
    load_policy,
    parse_policy,
)
from tests.translations import LANGUAGES, disagreements

UTC = timezone.utc  # datetime.UTC is Python 3.11; the action server runs 3.10

POLICY = ROOT / "policy.yml"


def _data() -> dict:
    return yaml.safe_load(POLICY.read_text())


def test_shipped_policy_is_valid() -> None:
    policy = load_policy(POLICY)
    assert policy.threshold == 4
    assert {rule.name for rule in policy.rules} >= {
        "refund",
        "credit",
        "cancellation_with_money",
        "large_amount",
        "legal_threat",
        "bereavement",
        "pet_health",
        "account_security",
        "complaint_about_staff",
        "complaint",
    }
    assert policy.consecutive_failures_for_handoff == 2


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (lambda d: d.pop("version"), "'version'", "a whole number"),
        (
            lambda d: d["frustration"].update(threshold="five"),
            "'frustration.threshold'",
            "whole number",
        ),
        (
            lambda d: d["always_human"][0].update(rule="Refund Me"),
            "'always_human[0].rule'",
            "snake_case",
        ),
        (lambda d: d["always_human"][1].update(why=""), "'always_human[1].why'", "a sentence"),
        (
            lambda d: d["always_human"][0].update(patterns=["(unclosed"]),
            "'always_human[0].patterns[0]'",
            "valid regular expression",
        ),
        (
            lambda d: d["always_human"][0].update(priority="vip"),
            "'always_human[0].priority'",
            "one of normal, high",
        ),
        (
            lambda d: d["frustration"]["signals"].update(sarcasm={"weight": 1}),
            "'frustration.signals'",
            "only repeated_question",
        ),
        (
            lambda d: d["understanding"].update(min_faq_confidence=2),
            "'understanding.min_faq_confidence'",
            "from 0 to 1",
        ),
        (
            lambda d: d["always_human"].append(dict(d["always_human"][0])),
            "'always_human'",
            "unique rule names",
        ),
        (
            lambda d: d["understanding"].update(unfinished_endings="the"),
            "'understanding.unfinished_endings'",
            "a list of words",
        ),
    ],
)
def test_invalid_policy_names_file_key_and_expectation(edit, key, expected) -> None:
    data = _data()
    edit(data)
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    message = str(error.value)
    assert str(POLICY) in message
    assert key in message
    assert expected in message


def test_unreadable_and_malformed_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("version: [1\n")
    with pytest.raises(PolicyError, match=r"broken.yml: not valid YAML"):
        load_policy(broken)


def test_unfinished_endings_are_read_in_lower_case_and_optional() -> None:
    data = _data()
    data["understanding"]["unfinished_endings"] = ["The", "UH"]
    assert parse_policy(data, POLICY).unfinished_endings == frozenset({"the", "uh"})
    del data["understanding"]["unfinished_endings"]
    assert parse_policy(data, POLICY).unfinished_endings == frozenset()


def test_min_sentence_confidence_is_optional_and_checked() -> None:
    data = _data()
    assert (
        parse_policy(data, POLICY).min_sentence_confidence
        == data["understanding"]["min_sentence_confidence"]
    )
    del data["understanding"]["min_sentence_confidence"]
    assert parse_policy(data, POLICY).min_sentence_confidence is None
    data["understanding"]["min_sentence_confidence"] = 1.5
    with pytest.raises(PolicyError, match=r"understanding.min_sentence_confidence"):
        parse_policy(data, POLICY)


# The bot service's sections (were tests/bot/test_policy.py).


def write(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load((ROOT / "policy.yml").read_text())
    change(data)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(ROOT / "policy.yml")
    assert policy.authority["agent"]["credit"].per_conversation > 0
    assert policy.replacements_per_order == 1
    assert "resolved" in policy.desk.wrap_ups and policy.desk.canned_replies


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["desk"]["hours"].update(timezone="Mars/Olympus"),
         "'desk.hours.timezone': expected an IANA time zone"),
        (lambda d: d["desk"]["hours"]["weekly"].update(mon="9-5"), "'desk.hours.weekly.mon'"),
        (lambda d: d["desk"]["hours"]["weekly"].update(tue="18:00-09:00"),
         "opening before closing"),
        (lambda d: d["desk"]["hours"]["weekly"].pop("sun"), "'desk.hours.weekly': expected each"),
        (lambda d: d["desk"]["hours"].update(closed_dates=["25/12/2026"]), "YYYY-MM-DD"),
        (lambda d: d["desk"].update(teams=[]), "'desk.teams'"),
        (lambda d: d["desk"].update(default_handle_minutes=0), "'desk.default_handle_minutes'"),
        (lambda d: d["desk"]["canned_replies"].append({"id": "looking", "title": "x", "text": "y"}),
         "two replies share an id"),
        (lambda d: d["desk"]["canned_replies"].append({"id": "x", "title": "x"}),
         "'desk.canned_replies[8].text'"),
        (lambda d: d["desk"]["canned_replies"].append(
            {"id": "x", "title": "x", "text": "I gave {amount}"}),
         "'desk.canned_replies[8]': a text with {amount} names its remedy"),
        (lambda d: d["desk"]["canned_replies"].append(
            {"id": "x", "title": "x", "text": "a {amount} gift", "remedy": "gift"}),
         "'desk.canned_replies[8].remedy': expected one of credit"),
        (lambda d: d["service_messages"].pop("out_of_hours"), "'service_messages.out_of_hours'"),
        (lambda d: d["authority"]["roles"]["agent"]["credit"].update(per_day=100),
         "per_conversation is more than per_day"),
        (lambda d: d["authority"]["roles"].pop("senior"), "'authority.roles': expected exactly"),
        (lambda d: d["authority"].update(audit_threshold_cents=2.5), "whole number of cents"),
        (lambda d: d["authority"].update(replacements_per_order=10),
         "'authority.replacements_per_order': expected a whole number from 0 to 9"),
        (lambda d: d["authority"].update(replacement_per_order=2),
         "'authority': expected only the keys"),
    ],
)  # fmt: skip
def test_a_broken_policy_names_the_file_and_key(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path, change)
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize(
    ("moment", "open_now"),
    [
        (datetime(2026, 12, 2, 12, 0, tzinfo=UTC), True),  # 7:00 in New York: opening time
        (datetime(2026, 12, 2, 11, 59, tzinfo=UTC), False),  # 6:59
        (datetime(2026, 12, 3, 3, 59, tzinfo=UTC), True),  # 22:59
        (datetime(2026, 12, 3, 4, 0, tzinfo=UTC), False),  # 23:00: closed
        (datetime(2026, 12, 25, 17, 0, tzinfo=UTC), False),  # Christmas Day
        (datetime(2026, 7, 1, 11, 30, tzinfo=UTC), True),  # 7:30 summer time (UTC-4)
    ],
)
def test_opening_hours_follow_the_desks_time_zone(moment: datetime, open_now: bool) -> None:
    hours = load_policy(ROOT / "policy.yml").desk.hours
    assert hours.open_at(moment) is open_now


def test_a_day_can_run_to_midnight_or_be_closed(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["desk"]["hours"]["weekly"].update(wed="00:00-24:00", thu="closed")

    hours = load_policy(write(tmp_path, change)).desk.hours
    assert hours.open_at(datetime(2026, 12, 3, 4, 59, tzinfo=UTC))  # Wed 23:59 in New York
    assert not hours.open_at(datetime(2026, 12, 3, 17, 0, tzinfo=UTC))  # Thursday noon


@pytest.mark.parametrize(
    ("signal", "key", "bad", "expected"),
    [
        ("repeated_question", "similarity", 1.5, "a number from 0 to 1"),
        ("repeated_question", "topic_similarity", "half", "a number from 0 to 1"),
        ("shouting", "caps_ratio", -0.1, "a number from 0 to 1"),
        ("shouting", "min_letters", 0, "a whole number from 1 to 1000"),
        ("learned", "min_score", 1.2, "a number from 0 to 1"),
        ("learned", "strong_weight", -1, "a whole number from 0 to 100"),
    ],
)
def test_a_bad_optional_signal_number_names_its_own_key(signal, key, bad, expected) -> None:
    data = _data()
    data["frustration"]["signals"][signal][key] = bad
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    assert f"'frustration.signals.{signal}.{key}': expected {expected}, got {bad!r}" in str(
        error.value
    )


def test_the_learned_signals_strong_score_is_not_below_its_first() -> None:
    data = _data()
    data["frustration"]["signals"]["learned"].update(min_score=0.8, strong_score=0.6)
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    assert "'frustration.signals.learned.strong_score': expected min_score (0.8) or more" in str(
        error.value
    )


def test_optional_signal_numbers_default_when_absent() -> None:
    data = _data()
    for key in ("similarity", "topic_similarity", "caps_ratio", "min_letters"):
        for signal in data["frustration"]["signals"].values():
            signal.pop(key, None)
    signals = parse_policy(data, POLICY).signals
    assert (
        signals["repeated_question"].similarity,
        signals["repeated_question"].topic_similarity,
    ) == (
        0.6,
        0.5,
    )
    assert (signals["shouting"].caps_ratio, signals["shouting"].min_letters) == (0.7, 8)


# Patterns and word lists in four languages: a list is English, a mapping names the language.


def test_patterns_may_be_a_list_or_a_mapping_of_languages() -> None:
    data = _data()
    data["always_human"][0]["patterns"] = ["\\bhacked\\b"]
    listed = parse_policy(data, POLICY).rules[0].patterns
    assert [code for code, _ in listed.by_language] == ["en"]
    data["always_human"][0]["patterns"] = {"zh": ["被盗"], "en": ["\\bhacked\\b"], "vi": []}
    mapped = parse_policy(data, POLICY).rules[0].patterns
    # English first, whatever the file's order; every language is tried on every message
    assert [code for code, _ in mapped.by_language] == ["en", "vi", "zh"]
    assert len(mapped) == 2 and mapped.find("账号被盗了") == "被盗"
    assert mapped.find("my account was HACKED") == "HACKED"
    assert mapped.find("where is my order") is None
    data["always_human"][0]["patterns"] = {}
    assert not parse_policy(data, POLICY).rules[0].patterns


@pytest.mark.parametrize(
    ("patterns", "key", "expected"),
    [
        ({"fr": ["x"]}, "'always_human[0].patterns'", "languages among en, vi, id, zh, got ['fr']"),
        ({"vi": "hoan tien"}, "'always_human[0].patterns.vi'", "a list of regular expressions"),
        ({"vi": None}, "'always_human[0].patterns.vi'", "a list of regular expressions"),
        ({"id": ["ok", ""]}, "'always_human[0].patterns.id'", "a list of regular expressions"),
        ({"vi": ["ok", "(hoan"]}, "'always_human[0].patterns.vi[1]'", "valid regular expression"),
        ("hacked", "'always_human[0].patterns'", "a list of regular expressions, or a mapping"),
        ({"zh": ["\\b退款\\b"]}, "'always_human[0].patterns.zh[0]'", "no \\b in a Chinese pattern"),
    ],
)
def test_a_malformed_pattern_entry_names_its_language(patterns, key, expected) -> None:
    data = _data()
    data["always_human"][0]["patterns"] = patterns
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    assert key in str(error.value) and expected in str(error.value)


@pytest.mark.parametrize(
    "where",
    [
        lambda d: d["explicit_request"],
        lambda d: d["frustration"]["signals"]["insult"],
    ],
)
def test_every_pattern_list_takes_the_mapping_form(where) -> None:
    data = _data()
    where(data)["patterns"] = {"en": ["\\bzzz\\b"], "id": ["\\bqqq\\b"]}
    policy = parse_policy(data, POLICY)
    found = [policy.explicit_patterns, policy.signals["insult"].patterns]
    assert any(p.find("qqq") == "qqq" and p.find("zzz") == "zzz" for p in found)


def test_vietnamese_patterns_see_the_text_with_and_without_tone_marks() -> None:
    data = _data()
    data["always_human"][0]["patterns"] = {"vi": ["\\bhoan tien\\b", "\\bđơn hàng lạ\\b"]}
    patterns = parse_policy(data, POLICY).rules[0].patterns
    # written without tone marks: matches both, and shows the words as the customer typed them
    assert patterns.find("Tôi muốn HOÀN TIỀN ngay") == "HOÀN TIỀN"
    assert patterns.find("toi muon hoan tien") == "hoan tien"
    assert patterns.find("em muốn hoàn tien") == "hoàn tien"
    # written with them: only the toned text ("don hang la" is also "the order is")
    assert patterns.find("có một đơn hàng lạ") == "đơn hàng lạ"
    assert patterns.find("don hang la 71042388") is None
    # only Vietnamese patterns see the stripped copy
    data["always_human"][0]["patterns"] = {"id": ["\\bhoan tien\\b"]}
    assert parse_policy(data, POLICY).rules[0].patterns.find("hoàn tiền") is None


def test_patterns_see_full_width_punctuation_and_curly_apostrophes_as_ascii() -> None:
    data = _data()
    data["always_human"][0]["patterns"] = {"en": ["[!?]{3}", "\\bdidn't\\b"]}
    patterns = parse_policy(data, POLICY).rules[0].patterns
    assert patterns.find("退款呢？？！") == "??!"
    assert patterns.find("I didn\u2019t order this") == "didn't"


@pytest.mark.parametrize(
    ("small_talk", "key", "expected"),
    [
        ({"greet": {"vi": ["xin chao"]}, "thank": ["Xin chào"]}, "small_talk.thank[0]", "twice"),
        ({"greet": ["hi"], "smalltalk": ["x"]}, "'understanding.small_talk'", "only the keys"),
        ({"thank": {"th": ["khob khun"]}}, "small_talk.thank'", "languages among"),
        ({"goodbye": {"zh": "再见"}}, "small_talk.goodbye.zh'", "a list of words"),
        ("hi", "'understanding.small_talk'", "a mapping"),
    ],
)
def test_a_malformed_small_talk_list_names_its_key(small_talk, key, expected) -> None:
    data = _data()
    data["understanding"]["small_talk"] = small_talk
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    assert key in str(error.value) and expected in str(error.value)


def test_unfinished_endings_take_the_mapping_form_without_tone_marks() -> None:
    data = _data()
    data["understanding"]["unfinished_endings"] = {"en": ["the"], "vi": ["hoặc"]}
    assert parse_policy(data, POLICY).unfinished_endings == frozenset({"the", "hoac"})


# Service messages in the customer's language.


def test_every_service_message_and_the_hours_speak_four_languages_with_the_same_facts() -> None:
    policy = load_policy(POLICY)
    localized = {f"service_messages.{n}": policy.messages[n] for n in SERVICE_MESSAGES}
    localized["desk.hours.describe"] = policy.desk.hours.describe
    for key, texts in localized.items():
        assert texts.languages == LANGUAGES, key
        english = texts.text("en")
        for language in LANGUAGES[1:]:
            assert texts.text(language) != english, (key, language)
            assert disagreements(english, texts.text(language)) == [], (key, language)


def test_a_message_is_picked_by_language_and_falls_back_to_english() -> None:
    policy = load_policy(POLICY)
    english = policy.message("agent_joined")
    assert english == "{name} from Customer Care has joined the chat."
    assert policy.message("agent_joined", "vi").startswith("{name} từ bộ phận Chăm sóc khách hàng")
    assert policy.message("agent_joined", "zh-CN") == policy.message("agent_joined", "zh")
    assert policy.message("agent_joined", "ID") == policy.message("agent_joined", "id")
    assert policy.message("agent_joined", "fr") == english


def test_a_plain_text_message_is_the_same_in_every_language() -> None:
    data = _data()
    data["service_messages"]["callback_saved"] = "Thanks, noted."
    data["desk"]["hours"]["describe"] = "9-5"
    policy = parse_policy(data, POLICY)
    assert policy.message("callback_saved", "vi") == "Thanks, noted."
    assert policy.messages["callback_saved"].languages == ("en",)
    assert policy.desk.hours.describe.text("zh") == "9-5"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("agent_joined", {"vi": "{name} đã tham gia."},
         "'service_messages.agent_joined': expected a text, or language codes (en required) "
         "mapping to texts of 1-2000 characters, got {'vi': '{name} đã tham gia.'}"),
        ("back_to_bot", ["You're back."], "'service_messages.back_to_bot': expected a text, or"),
        ("back_to_bot", None, "'service_messages.back_to_bot': expected a text, or"),
        ("back_to_bot", {"en": "You're back.", "Vietnamese": "Bạn đã quay lại."},
         "'service_messages.back_to_bot.Vietnamese': expected a two-letter language code such "
         "as en, vi, id or zh, got 'Vietnamese'"),
        ("back_to_bot", {"en": "You're back.", "vi": "  "},
         "'service_messages.back_to_bot.vi': expected a text of 1-2000 characters"),
        ("back_to_bot", {"en": "You're back.", "zh": 5},
         "'service_messages.back_to_bot.zh': expected a text of 1-2000 characters"),
        ("agent_joined", {"en": "{name} has joined.", "id": "Petugas telah bergabung."},
         "'service_messages.agent_joined.id': expected {name}, as in "
         "service_messages.agent_joined.en, got []"),
        ("out_of_hours", {"en": "We're closed.", "vi": "Chúng mình nghỉ ({hours})."},
         "'service_messages.out_of_hours.vi': expected no placeholders, as in "
         "service_messages.out_of_hours.en, got ['{hours}']"),
    ],
)  # fmt: skip
def test_a_malformed_service_message_names_its_key_and_what_was_expected(
    name: str, value: Any, message: str
) -> None:
    data = _data()
    data["service_messages"][name] = value
    with pytest.raises(PolicyError) as error:
        parse_policy(data, POLICY)
    assert f"{POLICY}: {message}" in str(error.value)


def test_opening_hours_in_words_follow_the_same_rules() -> None:
    data = _data()
    data["desk"]["hours"]["describe"] = {"vi": "7 giờ sáng - 11 giờ tối"}
    with pytest.raises(PolicyError, match=r"'desk.hours.describe': expected a text, or"):
        parse_policy(data, POLICY)
