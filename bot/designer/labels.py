"""Turn a designer's label into training data: which lines go to which file, then write them.

A quarter of every labelled batch (chosen by a hash of the text, so the same messages always
split the same way) goes to the held-out set instead of the training data: real customers'
phrasings are the best test of whether the retrained bot understands real customers. A new FAQ
topic also gets its answer in domain.yml (in English, which customers writing in a language
without its own answer get, and in the messages' language; the others when the designer writes
them) and a test story written with a held-out phrasing.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.handoff.policy import LANGUAGES
from bot.designer.nlu_files import (
    LabelConflict,
    LabelError,
    Project,
    add_examples,
    add_response,
    check_response,
    clean_example,
    normalised,
    printable,
    remove_examples,
    response_block,
    story_block,
)

KINDS = ("intent", "new_topic", "out_of_scope")
TOPIC = re.compile(r"[a-z][a-z0-9_]{1,39}")
FAQ_FILE = re.compile(r"faq_[a-z][a-z0-9_]{0,30}\.yml")
MIN_NEW_TOPIC = 5  # training and held-out examples each (the held-out tests need five per label)
HELDOUT_SHARE = 4  # one in four


@dataclass
class LabelRequest:
    kind: str
    texts: list[str]
    intent: str | None = None  # kind "intent": an intent of the training data
    topic: str | None = None  # kind "new_topic": faq/<topic>
    answer: str | None = None  # a new topic's answer in `language`
    file: str | None = None  # data/nlu file for a new topic, e.g. faq_orders.yml
    # a new topic's answers in other languages: {language: text} (English is required)
    answers: dict[str, str] = field(default_factory=dict)
    # phrasings the designer writes: more training examples, and held-out ones (new topics)
    examples: list[str] = field(default_factory=list)
    heldout: list[str] = field(default_factory=list)
    # the language the messages are written in: its training files and held-out set
    language: str = "en"


@dataclass
class Plan:
    intent: str
    train_file: Path
    training: list[str]
    heldout: list[str]
    skipped: list[str]
    response: tuple[str, dict[str, str]] | None = None  # (name, {language: answer})
    story: str | None = None
    language: str = "en"
    heldout_file: Path | None = None

    def record(self, project: Project) -> dict[str, Any]:
        heldout = self.heldout_file or project.heldout
        return {
            "intent": self.intent,
            "language": self.language,
            "train_file": str(self.train_file.relative_to(project.root)),
            "heldout_file": str(heldout.relative_to(project.root)),
            "training": self.training,
            "heldout": self.heldout,
            "skipped": self.skipped,
            "response": list(self.response) if self.response else None,
            "story": self.story,
        }


def heldout_turn(text: str) -> bool:
    return int(hashlib.sha256(normalised(text).encode()).hexdigest(), 16) % HELDOUT_SHARE == 0


def _answers(request: LabelRequest, languages: list[str]) -> dict[str, str]:
    """A new topic's answers by language, English first: English is what customers in a
    language without an answer get, and the messages' own language is whom the topic is for."""
    given = dict(request.answers)
    if request.answer is not None:
        given[request.language] = request.answer
    if unknown := sorted(set(given) - set(languages)):
        raise LabelError(f"answers are in {', '.join(languages)}, not {', '.join(unknown)}")
    answers = {}
    # in domain.yml's order of languages, English (the unconditioned text) first
    for language in sorted(
        given, key=lambda code: LANGUAGES.index(code) if code in LANGUAGES else 99
    ):
        text = printable(given[language]).strip()
        if len(text) > 2000:
            raise LabelError(f"the {language} answer is longer than 2000 characters")
        if text:
            answers[language] = text
    for needed in dict.fromkeys(("en", request.language)):
        if needed not in answers:
            raise LabelError(
                f"a new topic needs its answer in {needed!r}"
                + (" (what customers in a language without one get)" if needed == "en" else "")
                + ", up to 2000 characters"
            )
    return answers


def plan(project: Project, request: LabelRequest) -> Plan:
    """What a label would write, or LabelError saying what is wrong (nothing written)."""
    if request.kind not in KINDS:
        raise LabelError(f"kind must be one of {', '.join(KINDS)}")
    language = request.language
    if language not in project.languages():
        raise LabelError(f"language must be one of {', '.join(project.languages())}")
    intents = project.intents()
    # the messages' own language's files: the file defining the intent there, else a new block
    # in the language's file for its kind (an intent's English file name)
    own = project.intents(language)
    if request.kind == "intent":
        intent = request.intent or ""
        if intent not in intents:
            raise LabelError(f"there is no intent {intent!r} in the training data")
        train_file = own.get(intent) or project.language_dir(language) / intents[intent].name
    elif request.kind == "out_of_scope":
        intent = "out_of_scope"
        train_file = own.get(intent, project.language_dir(language) / "out_of_scope.yml")
    else:
        topic = request.topic or ""
        if not TOPIC.fullmatch(topic):
            raise LabelError("a topic name is 2-40 lower-case letters, digits or _")
        intent = f"faq/{topic}"
        if intent in intents:
            raise LabelConflict(f"{intent} exists already: label the messages with it instead")
        if not request.file or not FAQ_FILE.fullmatch(request.file):
            raise LabelError("say which FAQ file the topic belongs in, e.g. faq_orders.yml")
        answers = _answers(request, project.languages())
        train_file = project.language_dir(language) / request.file

    known, seen = project.known(), set()
    training: list[str] = []
    heldout: list[str] = []
    skipped: list[str] = []
    extra = request.heldout if request.kind == "new_topic" else []
    # customers' messages split between training and held-out; the designer's own go where said
    sources = [("split", t) for t in request.texts] + [("train", t) for t in request.examples]
    for where, raw in [*sources, *(("heldout", t) for t in extra)]:
        text = clean_example(raw)
        key = normalised(text)
        if not key or key in known or key in seen:
            skipped.append(text)
            continue
        seen.add(key)
        if where == "heldout" or (where == "split" and heldout_turn(text)):
            heldout.append(text)
        else:
            training.append(text)
    if not training and not heldout:
        raise LabelConflict("every one of these is in the training or held-out data already")
    result = Plan(
        intent,
        train_file,
        training,
        heldout,
        skipped,
        language=language,
        heldout_file=project.heldout_for(language),
    )
    if request.kind == "new_topic":
        if len(training) < MIN_NEW_TOPIC or len(heldout) < MIN_NEW_TOPIC:
            raise LabelError(
                f"a new topic needs at least {MIN_NEW_TOPIC} training and {MIN_NEW_TOPIC} held-out "
                f"examples; this label has {len(training)} and {len(heldout)}: write more "
                "examples or held-out phrasings, or label more messages with it"
            )
        result.response = (f"utter_{intent}", answers)
        # a clash with domain.yml is refused here, before apply() has written anything
        check_response(project.domain.read_text("utf-8"), result.response[0])
        result.story = story_block(intent.removeprefix("faq/"), heldout[0])
    return result


@dataclass
class Written:
    """What a label's files held before it changed them (None: a file it created)."""

    before: dict[Path, str | None]

    def restore(self) -> None:
        """Put every file back as it was: the database refused the label after all."""
        _replace_all(self.before)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _replace_all(changes: dict[Path, str | None]) -> Written:
    """Give every file its new text (None: remove it), all or none: each text goes to a temporary
    file beside its file first, and the files are replaced (atomically each) only once all are
    written; if a replacement fails, those already made are put back. No temporary file is left.
    """
    before = {path: _read_or_none(path) for path in changes}
    temporaries: dict[Path, Path] = {}
    try:
        for path, text in changes.items():
            if text is not None:
                temporaries[path] = _temporary(path)  # before writing: a partial one goes too
                temporaries[path].write_text(text, encoding="utf-8")
        done: list[Path] = []
        try:
            for path, text in changes.items():
                if text is None:
                    path.unlink(missing_ok=True)
                else:
                    os.replace(temporaries[path], path)
                    del temporaries[path]
                done.append(path)
        except BaseException:
            _put_back({path: before[path] for path in done})
            raise
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
    return Written(before)


def _put_back(files: dict[Path, str | None]) -> None:
    for path, text in files.items():
        if text is None:
            path.unlink(missing_ok=True)
        else:
            _temporary(path).write_text(text, encoding="utf-8")
            os.replace(_temporary(path), path)


def _read_or_none(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else 'version: "3.1"\nnlu:\n'


def apply(project: Project, planned: Plan) -> Written:
    """Write the plan: training file, held-out set, and for a new topic the answer and a story;
    all of them or (on any error) none. Returns what they held before, to restore."""
    changes: dict[Path, str | None] = {}
    if planned.training:
        tag = None if planned.language == "en" else planned.language
        changes[planned.train_file] = add_examples(
            _read(planned.train_file), planned.intent, planned.training, tag
        )
    if planned.heldout:
        heldout = planned.heldout_file or project.heldout
        changes[heldout] = add_examples(_read(heldout), planned.intent, planned.heldout)
    if planned.response:
        changes[project.domain] = add_response(project.domain.read_text("utf-8"), *planned.response)
    if planned.story:
        stories = project.faq_stories.read_text("utf-8")
        changes[project.faq_stories] = stories.rstrip("\n") + "\n" + planned.story
    return _replace_all(changes)  # every text is built before any file is touched


def undo(project: Project, record: dict[str, Any]) -> Written:
    """Take out exactly what `apply` wrote for this label; all of it or none. Returns what the
    files held before, to restore."""
    intent = record["intent"]
    train_file = project.root / record["train_file"]
    changes: dict[Path, str | None] = {}
    if record["training"] and train_file.exists():
        changes[train_file] = remove_examples(_read(train_file), intent, record["training"])
    if record["heldout"]:
        # labels written before languages came name no held-out file: English's
        heldout = project.root / record.get(
            "heldout_file", project.heldout.relative_to(project.root)
        )
        changes[heldout] = remove_examples(_read(heldout), intent, record["heldout"])
    if record.get("response"):
        block = response_block(*record["response"])
        changes[project.domain] = project.domain.read_text("utf-8").replace(block, "", 1)
    if record.get("story"):
        stories = project.faq_stories.read_text("utf-8")
        changes[project.faq_stories] = stories.replace("\n" + record["story"], "\n", 1)
    left = changes.get(train_file)
    if left is not None and not [ln for ln in left.splitlines() if ln.startswith("- ")]:
        changes[train_file] = None  # a file this label created, now empty again
    return _replace_all(changes)


__all__ = [
    "KINDS",
    "LabelConflict",
    "LabelError",
    "LabelRequest",
    "Plan",
    "Written",
    "apply",
    "plan",
    "undo",
]
