"""Write labelled messages into Rasa's YAML files as a careful person would by hand.

Text-level edits, never a YAML round trip: new lines go at the end of the right intent's
`examples: |` block (or a new block at the end of the file), and nothing else in the file moves,
so reviews and `git diff` show exactly what was labelled. Removing a label takes out exactly the
lines it added.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")  # "[71042388](order_id)"
INTENT_LINE = re.compile(r"^- intent: *(\S+) *$")
EXAMPLE_INDENT = "    - "
MAX_EXAMPLE_CHARS = 500
# What the YAML readers (PyYAML's, and ruamel's that Rasa uses) accept, less NEL (a C1 control,
# and a line break to YAML): one character outside it, and the whole file fails to load
# ("unacceptable character #x001b"), and training with it. Intake refuses control characters
# (bot/conversations/controls.py), but older messages and Rasa's tracker store can still hold them.
NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class LabelError(ValueError):
    """A label that cannot be written as asked (the designer's request is wrong)."""


class LabelConflict(LabelError):
    """A label that clashes with what the project holds already."""


def normalised(text: str) -> str:
    """How duplicates are recognised (the held-out set's tests compare the same way)."""
    text = ENTITY.sub(r"\1", text).lower()
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


def printable(text: str) -> str:
    """`text` with each character a YAML file cannot hold (control characters) made a space."""
    return NOT_YAML.sub(" ", text)


def clean_example(text: str) -> str:
    """One line that Rasa reads back as the same text: no control characters, no entity markup,
    no line breaks."""
    one_line = " ".join(ENTITY.sub(r"\1", printable(text)).split())
    # square brackets would be read as the start of an entity annotation
    one_line = one_line.replace("[", "(").replace("]", ")")
    if not one_line or len(one_line) > MAX_EXAMPLE_CHARS:
        raise LabelError(f"an example must be 1-{MAX_EXAMPLE_CHARS} characters on one line")
    return one_line


def examples_in(text: str) -> list[tuple[str, str]]:
    """(intent, example) for every example in an NLU file's text."""
    found, intent = [], None
    for line in text.splitlines():
        if match := INTENT_LINE.match(line):
            intent = match.group(1)
        elif intent and line.startswith(EXAMPLE_INDENT):
            found.append((intent, line[len(EXAMPLE_INDENT) :]))
        elif line.strip() and not line.startswith(" "):
            intent = None
    return found


def _block_end(lines: list[str], intent: str) -> int | None:
    """Index after the last example line of `intent`'s block, or None if there is no block."""
    for start, line in enumerate(lines):
        match = INTENT_LINE.match(line)
        if match and match.group(1) == intent:
            end = start + 1
            for index in range(start + 1, len(lines)):
                if lines[index].startswith(EXAMPLE_INDENT) or lines[index].startswith("  examples"):
                    end = index + 1
                elif lines[index].strip() and not lines[index].startswith("   "):
                    break
            return end
    return None


def add_examples(
    text: str, intent: str, examples: Iterable[str], language: str | None = None
) -> str:
    """`text` with `examples` added to `intent` (a new block at the end if it has none, labelled
    with `language` when given: the language detector learns from these labels)."""
    new = [f"{EXAMPLE_INDENT}{e}" for e in examples]
    if not new:
        return text
    lines = text.splitlines()
    end = _block_end(lines, intent)
    if end is None:
        while lines and not lines[-1].strip():
            lines.pop()
        metadata = ["  metadata:", f"    language: {language}"] if language else []
        lines += ["", f"- intent: {intent}", *metadata, "  examples: |", *new]
    else:
        lines[end:end] = new
    return "\n".join(lines) + "\n"


def remove_examples(text: str, intent: str, examples: Iterable[str]) -> str:
    """Undo `add_examples`: the lines go, and the block too if nothing is left in it."""
    wanted = {f"{EXAMPLE_INDENT}{e}" for e in examples}
    lines, current, kept = text.splitlines(), None, []
    for line in lines:
        if match := INTENT_LINE.match(line):
            current = match.group(1)
        elif line.strip() and not line.startswith(" "):
            current = None
        if current == intent and line in wanted:
            wanted.discard(line)
            continue
        kept.append(line)
    result = "\n".join(kept) + "\n"
    empty = re.compile(
        rf"\n*^- intent: {re.escape(intent)} *\n(  metadata:\n    language: \w+\n)?"
        r"  examples: \|\n(?=\n|- |\Z)",
        re.M,
    )
    return empty.sub("\n", result).rstrip("\n") + "\n"


def response_block(name: str, answers: str | dict[str, str]) -> str:
    """A response in domain.yml's form: the English text without a condition (what Rasa gives a
    language with no text of its own), then one variation per other language given. `answers`
    is {language: text}, or one English text (as labels made before languages recorded it)."""
    texts = {"en": answers} if isinstance(answers, str) else answers
    # JSON's string syntax is a valid YAML double-quoted scalar
    block = [f"  {name}:\n    - text: {json.dumps(printable(texts['en']), ensure_ascii=False)}\n"]
    for language, text in texts.items():
        if language != "en":
            block.append(
                f"    - text: {json.dumps(printable(text), ensure_ascii=False)}\n"
                f"      condition: [{{type: slot, name: language, value: {language}}}]\n"
            )
    return "".join(block)


def check_response(domain: str, name: str) -> None:
    """LabelConflict unless `add_response` can add the response `name` to this domain.yml."""
    if re.search(rf"^  {re.escape(name)}:", domain, re.M):
        raise LabelConflict(f"domain.yml already has a response {name}")
    if not re.search(r"^  utter_faq/", domain, re.M):
        raise LabelConflict("domain.yml has no FAQ answers (utter_faq/...) to add this one to")


def add_response(domain: str, name: str, answer: str | dict[str, str]) -> str:
    """Insert a response after the last FAQ answer in domain.yml."""
    check_response(domain, name)
    lines = domain.splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("  utter_faq/"))
    end = last + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    lines.insert(end, response_block(name, answer))
    return "".join(lines)


def story_block(topic: str, example: str) -> str:
    return (
        f"\n- story: {topic} (labelled by a conversation designer)\n"
        "  steps:\n"
        "  - user: |\n"
        f"      {example}\n"
        f"    intent: faq/{topic}\n"
        "  - action: action_gate\n"
        "  - slot_was_set:\n"
        "      - gate: answer\n"
        "  - action: utter_faq\n"
    )


@dataclass(frozen=True)
class Project:
    """Where the files are: the real project, or a copy (the tests use one)."""

    root: Path

    @property
    def nlu_dir(self) -> Path:
        return self.root / "data" / "nlu"

    @property
    def heldout(self) -> Path:
        return self.root / "tests" / "nlu" / "test_nlu.yml"

    def heldout_for(self, language: str) -> Path:
        """English's held-out set, or another language's (test_nlu_<code>.yml)."""
        if language == "en":
            return self.heldout
        return self.heldout.with_name(f"test_nlu_{language}.yml")

    def language_dir(self, language: str) -> Path:
        """Where a language's training examples are: data/nlu (English) or data/nlu/<code>."""
        return self.nlu_dir if language == "en" else self.nlu_dir / language

    def languages(self) -> list[str]:
        """English and each language with a folder of training examples."""
        return ["en", *sorted(p.name for p in self.nlu_dir.iterdir() if p.is_dir())]

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def faq_stories(self) -> Path:
        return self.root / "tests" / "stories" / "test_faq.yml"

    def nlu_files(self, language: str = "en") -> list[Path]:
        return sorted(self.language_dir(language).glob("*.yml"))

    def intents(self, language: str = "en") -> dict[str, Path]:
        """Each intent and the training file that defines it, in one language."""
        found: dict[str, Path] = {}
        for path in self.nlu_files(language):
            for line in path.read_text(encoding="utf-8").splitlines():
                if match := INTENT_LINE.match(line):
                    found.setdefault(match.group(1), path)
        return found

    def known(self) -> set[str]:
        """Every example already in the training data or the held-out sets, in every language,
        normalised."""
        texts = set()
        paths = [p for code in self.languages() for p in self.nlu_files(code)]
        paths += [self.heldout_for(code) for code in self.languages()]
        for path in [p for p in paths if p.exists()]:
            texts |= {normalised(e) for _, e in examples_in(path.read_text(encoding="utf-8"))}
        return texts
