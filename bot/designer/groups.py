"""Group similar messages, so a missing FAQ topic shows up as one big group, not forty singles.

TF-IDF over words and character n-grams, cosine similarity through an inverted index, and
mutual nearest neighbours joined into groups. Messages that are the same once normalised (case,
punctuation, spacing, Vietnamese tone marks, full-width forms) are always one group. Plain Python
(the service stays small), deterministic for a given input, a few seconds for a few thousand
messages.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actions.handoff.text import HAN, fold, strip_tones
from bot.designer.nlu_files import normalised

# a word, or one Han character (Chinese has no spaces)
WORD = re.compile(rf"[{HAN}]|[a-z0-9']+")
# Words that say nothing about the topic of a customer's message.
_STOP_WORDS = (
    "a an and are as at be but by can could do does for from had has have hello hey hi how i "
    "i'm im in is it it's its me my of on or our please so that the there this to u us was we "
    "what when where which who why will with would you your yours thanks thank ok okay just"
)
STOP = frozenset(_STOP_WORDS.split())
# Chosen on 12 intents of CLINC150's validation split (public data, not ours): a group is 94% one
# intent, and the largest group of an intent holds 72% of its messages (3,000 messages: 1 s).
# The designer sees every member and can leave out the odd one before labelling.
THRESHOLD = 0.25
NEIGHBOURS = 8
GROUP_FACTOR = 0.8
IDF_POWER = 0.5  # damped: a topic's own words still count when the topic is frequent


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(text: str) -> Counter[str]:
    """Stemmed content words, plus character 4-grams of the words run together, which match
    misspellings and "giftcard" with "gift card"."""
    plain = strip_tones(text).lower()  # Vietnamese typed with or without tone marks
    words = [_stem(w) for w in WORD.findall(plain) if w not in STOP]
    joined = f" {''.join(words)} "
    grams = [f"#{joined[i : i + 4]}" for i in range(max(0, len(joined) - 3))]
    return Counter(words + grams)


def duplicate_key(text: str) -> str:
    """What two messages share when they are the same message: "How do I change my delivery
    address?" and "how do i  change my delivery address", "Phí ship bao nhiêu" and "phi ship bao
    nhieu", "运费多少？" and "运费多少?". `fold` (case, tone marks, spacing, full-width forms), then
    the labels' own duplicate test (`normalised`: punctuation)."""
    return normalised(fold(text))


@dataclass(frozen=True)
class Group:
    id: str
    members: tuple[int, ...]  # indexes into the input, in input order

    @property
    def size(self) -> int:
        return len(self.members)


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def group(texts: Sequence[str], threshold: float = THRESHOLD, k: int = NEIGHBOURS) -> list[Group]:
    """Groups of `texts`, largest first (ties: the group whose first message comes first).

    Two messages are linked when each is among the other's `k` most similar and their cosine is
    at least `threshold`; groups are the connected sets. Requiring the link both ways stops one
    vague message from chaining unrelated groups together. Then the groups themselves link the
    same way, by centroid, until none joins.

    Duplicates (`duplicate_key`) are grouped as one message and then given back: many copies of
    one question would otherwise fill each other's `k` nearest and leave some copies out.
    """
    first: dict[str, int] = {}  # each duplicate key's first message, as an index into `unique`
    unique: list[int] = []
    copy_of: list[int] = []
    for index, text in enumerate(texts):
        key = duplicate_key(text)
        if key not in first:
            first[key] = len(unique)
            unique.append(index)
        copy_of.append(first[key])
    copies: list[list[int]] = [[] for _ in unique]
    for index, one in enumerate(copy_of):
        copies[one].append(index)
    groups = []
    for found in _group_unique([texts[i] for i in unique], threshold, k):
        members = tuple(sorted(i for one in found for i in copies[one]))
        groups.append(Group(group_id(texts[members[0]]), members))
    return sorted(groups, key=lambda g: (-g.size, g.members[0]))


def _group_unique(texts: Sequence[str], threshold: float, k: int) -> list[list[int]]:
    """The groups of `texts` (no two the same), as lists of indexes."""
    counts = [features(t) for t in texts]
    documents = Counter(term for c in counts for term in c)
    n = len(texts)
    # terms in most messages say little and cost the most to compare
    common = {t for t, f in documents.items() if f > max(50, n // 2)}
    vectors = [
        _normalised(
            {
                t: (1 + math.log(f)) * math.log(1 + n / documents[t]) ** IDF_POWER
                for t, f in c.items()
                if t not in common
            }
        )
        for c in counts
    ]
    # messages first, then the groups they formed (by centroid), until nothing more joins
    members = [[index] for index in range(n)]
    level = threshold
    while True:
        centroids = [_normalised(_sum(vectors[m] for m in group)) for group in members]
        parent = list(range(len(members)))
        for a, b in _mutual_links(centroids, k, level):
            ra, rb = _root(parent, a), _root(parent, b)
            parent[max(ra, rb)] = min(ra, rb)
        if all(_root(parent, g) == g for g in range(len(members))):
            break
        joined: dict[int, list[int]] = {}
        for g, group_members in enumerate(members):
            joined.setdefault(_root(parent, g), []).extend(group_members)
        members = [sorted(m) for m in joined.values()]
        level = threshold * GROUP_FACTOR  # a centroid averages its messages' noise away
    return members


def group_id(first: str) -> str:
    """A group's id: from its first message, so it stays the same while the group does."""
    return hashlib.sha256(first.encode()).hexdigest()[:12]


def _sum(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for vector in vectors:
        for term, weight in vector.items():
            total[term] = total.get(term, 0.0) + weight
    return total


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _mutual_links(
    vectors: list[dict[str, float]], k: int, threshold: float
) -> list[tuple[int, int]]:
    """Pairs that are each among the other's k most similar, at `threshold` or more."""
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, vector in enumerate(vectors):
        for term, weight in vector.items():
            postings.setdefault(term, []).append((index, weight))
    nearest: list[set[int]] = []
    for index, vector in enumerate(vectors):
        dots: dict[int, float] = {}
        for term, weight in vector.items():
            for other, other_weight in postings[term]:
                if other != index:
                    dots[other] = dots.get(other, 0.0) + weight * other_weight
        top = sorted(dots.items(), key=lambda item: (-item[1], item[0]))[:k]
        nearest.append({other for other, score in top if score >= threshold})
    return [(a, b) for a in range(len(vectors)) for b in nearest[a] if a < b and a in nearest[b]]
