"""Labels round-trip through the project's real YAML files (in a copy): only the labelled lines
change, Rasa still validates them, and undo restores every file byte for byte."""

from __future__ import annotations

import difflib
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.designer import labels
from bot.designer.nlu_files import LabelConflict, LabelError, Project, add_response, examples_in
from bot.settings import RASA_VENV
from tests.bot.designer.conftest import copy_project

GIFT_WRAP = [
    "can you gift wrap my order", "do you do gift wrapping?", "is gift wrap available",
    "can i add a gift message to the box", "wrap it as a present please", "gift wrapping cost",
    "can the box say happy birthday", "do u wrap presents", "I want it wrapped, it's a gift",
    "add a note for my mum in the parcel", "is there a gift receipt option",
    "can you hide the price, it's a present",
]  # fmt: skip
HELDOUT = [
    "any chance of wrapping this for my nephew", "put a card in with the order?",
    "gift-wrap option at checkout?", "does the parcel show prices if it is a gift",
    "I'm sending this as a present, can it be wrapped",
]  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(copy_project(tmp_path / "project"))


def snapshot(project: Project) -> dict[Path, str]:
    paths = [*project.nlu_files(), project.heldout, project.domain, project.faq_stories]
    return {p: p.read_text() for p in paths}


def added_lines(before: dict[Path, str], after: dict[Path, str]) -> dict[str, list[str]]:
    """The lines each file gained; fails if any line was removed or changed."""
    changes: dict[str, list[str]] = {}
    for path in sorted(set(before) | set(after)):
        diff = list(
            difflib.ndiff(before.get(path, "").splitlines(), after.get(path, "").splitlines())
        )
        assert not [d for d in diff if d.startswith("- ")], f"{path.name} lost lines"
        if plus := [d[2:] for d in diff if d.startswith("+ ")]:
            changes[path.name] = plus
    return changes


def test_labelling_an_existing_intent_adds_just_those_lines(project: Project) -> None:
    before = snapshot(project)
    texts = ["yo whens the next autoship box comin", "when does my next autoship ship out",
             "next autoship date??", "is my next repeat delivery still on for friday",
             "when will the next scheduled delivery be charged"]  # fmt: skip
    planned = labels.plan(
        project, labels.LabelRequest("intent", texts, intent="faq/autoship_about")
    )
    assert sorted(planned.training + planned.heldout) == sorted(texts)
    assert planned.train_file.name == "faq_autoship.yml"
    labels.apply(project, planned)
    after = snapshot(project)
    changes = added_lines(before, after)
    assert changes == {
        **(
            {"faq_autoship.yml": [f"    - {t}" for t in planned.training]}
            if planned.training
            else {}
        ),
        **({"test_nlu.yml": [f"    - {t}" for t in planned.heldout]} if planned.heldout else {}),
    }
    examples = examples_in(after[planned.train_file])
    assert all(("faq/autoship_about", t) in examples for t in planned.training)
    yaml.safe_load(after[planned.train_file])  # still YAML
    labels.undo(project, planned.record(project))
    assert snapshot(project) == before


def test_a_new_topic_gets_examples_answer_heldout_and_a_story_and_rasa_validates_it(
    project: Project,
) -> None:
    before = snapshot(project)
    request = labels.LabelRequest(
        "new_topic", GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml",
        answer="We don't gift wrap yet, but every order ships in a plain box with no prices.",
        heldout=HELDOUT,
    )  # fmt: skip
    planned = labels.plan(project, request)
    assert len(planned.training) >= 5 and len(planned.heldout) >= 5
    labels.apply(project, planned)
    changes = added_lines(before, snapshot(project))
    assert set(changes) == {"faq_orders.yml", "test_nlu.yml", "domain.yml", "test_faq.yml"}
    assert changes["domain.yml"][0] == "  utter_faq/gift_wrap:"
    assert "    intent: faq/gift_wrap" in changes["test_faq.yml"]
    assert project.intents()["faq/gift_wrap"].name == "faq_orders.yml"
    rasa = RASA_VENV / "bin" / "rasa"
    if not rasa.exists():
        pytest.skip("the Rasa environment is not installed")
    validated = subprocess.run(
        [str(rasa), "data", "validate", "--fail-on-warnings"], cwd=project.root,
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(project.root)},
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]
    labels.undo(project, planned.record(project))
    assert snapshot(project) == before


VI_GIFT_WRAP = [
    "shop co goi qua khong", "goi qua giup minh nha", "co dich vu goi qua ko shop",
    "minh muon tang qua, goi giup minh duoc ko", "phi goi qua bao nhieu vay",
    "co ghi thiep chuc mung duoc khong", "dong goi lam qua tang duoc khong ad",
    "gói quà sinh nhật được không shop", "có gói quà không ạ", "shop gói quà đẹp giúp em với",
    "co giau gia tien trong hop duoc khong", "em gui qua cho me, goi giup em",
]  # fmt: skip
VI_HELDOUT = [
    "shop ơi có gói quà tặng không", "goi qua tang ban gai dc ko shop", "co the kem thiep khong",
    "hop hang co hien gia khong, minh tang qua", "dich vu goi qua mat phi ko",
]  # fmt: skip


CHINESE = "我们暂不提供礼品包装，但所有订单都用无价格的素色盒子寄出。"


def test_a_new_topic_from_vietnamese_messages_gets_its_answers_by_language(
    project: Project,
) -> None:
    before = snapshot(project)
    english = "We don't gift wrap yet, but every order ships in a plain box with no prices."
    vietnamese = (
        "Hiện shop chưa có dịch vụ gói quà, nhưng mọi đơn đều giao trong hộp trơn, không ghi giá."
    )
    request = labels.LabelRequest(
        "new_topic", VI_GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml", answer=vietnamese,
        heldout=VI_HELDOUT, language="vi", answers={"zh": CHINESE, "en": english},
    )  # fmt: skip
    planned = labels.plan(project, request)
    labels.apply(project, planned)
    domain = yaml.safe_load(project.domain.read_text())
    variations = domain["responses"]["utter_faq/gift_wrap"]
    # English first, unconditioned (what an Indonesian customer gets, having no text of theirs)
    assert [(v["text"][:9], v.get("condition")) for v in variations] == [
        ("We don't ", None),
        ("Hiện shop", [{"type": "slot", "name": "language", "value": "vi"}]),
        ("我们暂不提供礼品包", [{"type": "slot", "name": "language", "value": "zh"}]),
    ]
    assert planned.train_file == project.language_dir("vi") / "faq_orders.yml"
    labels.undo(project, planned.record(project))
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("answer", "answers", "why"),
    [
        ("Chưa có gói quà.", {}, "needs its answer in 'en'"),
        (None, {"en": "Not yet."}, "needs its answer in 'vi'"),
        ("Chưa có.", {"en": "Not yet.", "fr": "Pas encore."}, "not fr"),
        ("Chưa có.", {"en": "x" * 2001}, "longer than 2000"),
    ],
)
def test_a_new_topic_needs_english_and_its_own_language(
    project: Project, answer: str | None, answers: dict[str, str], why: str
) -> None:
    request = labels.LabelRequest(
        "new_topic", VI_GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml", answer=answer,
        heldout=VI_HELDOUT, language="vi", answers=answers,
    )  # fmt: skip
    with pytest.raises(LabelError, match=why):
        labels.plan(project, request)


def test_known_examples_and_repeats_are_skipped_not_duplicated(project: Project) -> None:
    existing = examples_in(project.heldout.read_text())[0][1]  # a held-out phrasing
    training = examples_in((project.nlu_dir / "faq_contact.yml").read_text())[0][1]
    texts = ["What are your hours on Boxing Day??", "what are your hours on boxing day",
             existing, training.upper()]  # fmt: skip
    planned = labels.plan(project, labels.LabelRequest("intent", texts, intent="faq/contact_hours"))
    assert planned.training + planned.heldout == ["What are your hours on Boxing Day??"]
    assert len(planned.skipped) == 3


def test_entity_markup_and_line_breaks_cannot_sneak_into_the_yaml(project: Project) -> None:
    planned = labels.plan(
        project,
        labels.LabelRequest("out_of_scope", ["tell me a [joke](order_id)\nplease, [now]", "x" * 9]),
    )
    assert "tell me a joke please, (now)" in planned.training + planned.heldout


def test_control_characters_cannot_sneak_into_the_yaml(project: Project) -> None:
    """Whatever the inbox holds (NUL and lone surrogates too, which no database stores but a
    tracker or a page could send), the files stay YAML: each becomes a space."""
    before = snapshot(project)
    texts = ["my\x00 box\x1b[2J is\x7f late\x9b\ud83d again\ufffe", "esc\x1bape\x08d\x85text"]
    request = labels.LabelRequest(
        "new_topic", GIFT_WRAP + texts, topic="gift_wrap", file="faq_orders.yml",
        answer="We don't\x1b gift wrap\x7f yet.\nSorry!", heldout=HELDOUT,
    )  # fmt: skip
    planned = labels.plan(project, request)
    labels.apply(project, planned)
    changed = {p for p, text in snapshot(project).items() if before.get(p) != text}
    assert project.domain in changed and len(changed) >= 3
    for path in changed:
        yaml.safe_load(path.read_text("utf-8"))
    clean = {"my box (2J is late again", "esc ape d text"}
    assert clean <= set(planned.training + planned.heldout)
    found = {e for path in changed for _, e in examples_in(path.read_text("utf-8"))}
    assert clean <= found
    domain = yaml.safe_load(project.domain.read_text("utf-8"))
    assert domain["responses"]["utter_faq/gift_wrap"] == [
        {"text": "We don't  gift wrap  yet.\nSorry!"}
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (labels.LabelRequest("guess", ["hi"]), "kind must be one of"),
        (labels.LabelRequest("intent", ["hi"], intent="faq/nope"), "no intent 'faq/nope'"),
        (labels.LabelRequest("new_topic", GIFT_WRAP, topic="Gift Wrap!", file="faq_orders.yml",
                             answer="x"), "topic name"),
        (labels.LabelRequest("new_topic", GIFT_WRAP, topic="order_status", file="faq_orders.yml",
                             answer="x"), "exists already"),
        (labels.LabelRequest("new_topic", GIFT_WRAP, topic="gift_wrap", file="../../etc/passwd",
                             answer="x"), "which FAQ file"),
        (labels.LabelRequest("new_topic", GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml"),
         "needs its answer"),
        (labels.LabelRequest("new_topic", GIFT_WRAP[:4], topic="gift_wrap", file="faq_orders.yml",
                             answer="x"), "at least 5 training and 5 held-out"),
        (labels.LabelRequest("intent", [""], intent="greet"), "1-500 characters"),
    ],
)  # fmt: skip
def test_a_bad_label_says_why_and_writes_nothing(
    project: Project, request_: labels.LabelRequest, message: str
) -> None:
    before = snapshot(project)
    with pytest.raises(LabelError, match=message) as refused:
        labels.plan(project, request_)
    # "exists already" clashes with the data (409 from the API); the rest are wrong requests (400)
    assert isinstance(refused.value, LabelConflict) == (message == "exists already")
    assert snapshot(project) == before


def test_a_new_topic_whose_answer_is_in_the_domain_already_is_refused_before_anything_is_written(
    project: Project,
) -> None:
    """An answer left behind in domain.yml (its examples removed by hand) blocks the topic."""
    domain = add_response(project.domain.read_text(), "utter_faq/gift_wrap", "We wrap gifts.")
    project.domain.write_text(domain)
    before = snapshot(project)
    wanted = labels.LabelRequest(
        "new_topic", GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml", answer="Yes, $4.99.",
        heldout=HELDOUT,
    )  # fmt: skip
    with pytest.raises(LabelConflict, match="already has a response utter_faq/gift_wrap"):
        labels.plan(project, wanted)
    assert snapshot(project) == before


def gift_wrap_topic() -> labels.LabelRequest:
    return labels.LabelRequest(
        "new_topic", GIFT_WRAP, topic="gift_wrap", file="faq_orders.yml",
        answer="We don't gift wrap yet.", heldout=HELDOUT,
    )  # fmt: skip


def leftovers(project: Project) -> list[str]:
    return sorted(p.name for p in project.root.rglob("*.tmp"))


@pytest.mark.parametrize("failing", ["test_nlu.yml", "domain.yml", "test_faq.yml"])
def test_a_label_that_fails_to_write_one_file_writes_none(
    project: Project, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The probe's new topic left its examples in two files and a .domain.yml.tmp behind."""
    before = snapshot(project)
    planned = labels.plan(project, gift_wrap_topic())
    replace = os.replace

    def full_disk(source: Path, target: Path) -> None:
        if Path(target).name == failing:
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(labels.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        labels.apply(project, planned)
    assert snapshot(project) == before
    assert leftovers(project) == []


def test_what_a_label_wrote_can_be_restored_byte_for_byte(project: Project) -> None:
    before = snapshot(project)
    written = labels.apply(project, labels.plan(project, gift_wrap_topic()))
    assert snapshot(project) != before
    written.restore()  # what the service does when the database refuses the label's rows
    assert snapshot(project) == before and leftovers(project) == []


def test_messages_in_another_language_go_to_that_languages_files(project: Project) -> None:
    files = [*project.nlu_files("vi"), project.heldout_for("vi")]
    before = {p: p.read_text() for p in files}
    texts = ["phi giao hang di ha noi la bao nhieu vay shop", "ship ve hai phong mat bao nhieu",
             "đơn 30 đô có được free ship không ạ", "ship cod co mat them phi ko",
             "giao hàng tới đà nẵng tốn bao nhiêu tiền"]  # fmt: skip
    request = labels.LabelRequest("intent", texts, intent="faq/shipping_cost", language="vi")
    planned = labels.plan(project, request)
    # the intent's Vietnamese file, and the Vietnamese held-out set; nothing English
    assert planned.train_file == project.nlu_dir / "vi" / "faq.yml"
    assert planned.record(project)["heldout_file"] == "tests/nlu/test_nlu_vi.yml"
    labels.apply(project, planned)
    assert all(("faq/shipping_cost", t) in examples_in(planned.train_file.read_text())
               for t in planned.training)  # fmt: skip
    labels.undo(project, planned.record(project))
    assert {p: p.read_text() for p in files} == before


def test_a_new_block_in_another_language_is_labelled_with_it(project: Project) -> None:
    (project.nlu_dir / "zh" / "out_of_scope.yml").unlink()  # no such examples in Chinese yet
    texts = ["帮我写一篇关于春天的作文", "给我讲讲明天的股票行情", "推荐一部好看的电影",
             "帮我算一下房贷利息", "翻译这句话成日语"]  # fmt: skip
    planned = labels.plan(project, labels.LabelRequest("out_of_scope", texts, language="zh"))
    assert planned.train_file == project.nlu_dir / "zh" / "out_of_scope.yml"
    assert planned.training  # (the split between training and held-out is by a hash)
    labels.apply(project, planned)
    block = yaml.safe_load(planned.train_file.read_text())["nlu"][0]
    assert block["metadata"] == {"language": "zh"}
    assert block["intent"] == "out_of_scope"
    labels.undo(project, planned.record(project))
    assert not planned.train_file.exists()


def test_known_examples_are_looked_for_in_every_language(project: Project) -> None:
    vietnamese = examples_in((project.nlu_dir / "vi" / "faq.yml").read_text())[0][1]
    with pytest.raises(LabelConflict):
        labels.plan(project, labels.LabelRequest("intent", [vietnamese], intent="faq/order_status"))
    with pytest.raises(LabelError, match="language must be one of en, id, vi, zh"):
        labels.plan(project, labels.LabelRequest("out_of_scope", ["x y"], language="fr"))
