"""Handoff evaluation: `python -m tests.handoff.evaluate [--model PATH] [--quick]`.

Runs every conversation through the trained NLU model and the gate's own decision code
(actions/handoff/decision.py), turn by turn, routing each message as data/rules/ do (small talk
answered by its rule, the rest through the gate), and stops at the first handoff. The dialogue
itself is exercised by the end-to-end tests against real Rasa and action servers.

Prints, for the company's labelled conversations (tests/handoff/conversations.yml, and
conversations_<code>.yml in Vietnamese, Indonesian and Chinese): handoff precision, recall, reason
and rule accuracy; for Bitext's contact_human_agent and complaint
utterances: the share handed off; for the Banking77 and CLINC150 test utterances (benign traffic):
the share handed off for frustration or an explicit request (the false-handoff rate), and for any
reason. Writes results/handoff_eval.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from actions.handoff.decision import Decision, decide
from actions.handoff.policy import Policy, load_policy
from actions.handoff.turns import Turn, turn_from_parse
from tests.rasa_model import ROOT, model_path

CONVERSATIONS = ROOT / "tests" / "handoff" / "conversations.yml"
# The same kind of labelled conversations in the other languages, written separately.
LANGUAGE_CONVERSATIONS = {
    code: CONVERSATIONS.with_name(f"conversations_{code}.yml") for code in ("vi", "id", "zh")
}
# Frustration told rather than shouted, and calm look-alikes, in each language: written by a writer
# who never saw the learned signal's training data (data/frustration/), and never tuned on.
TOLD_CONVERSATIONS = {
    code: CONVERSATIONS.with_name(f"told_{code}.yml") for code in ("en", "vi", "id", "zh")
}
DATASETS = Path(os.environ.get("SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
# What the rules answer when the gate lets a message through (data/rules/).
ANSWERS = {
    "out_of_scope": "utter_out_of_scope",
    "inform_order": "utter_order_id_noted",
    "feedback_negative": "utter_feedback_sorry",
}


@dataclass
class Outcome:
    decision: Decision | None
    turn: int | None
    offered: bool = False  # the bot offered a person (yes/no) and the customer has not answered


def plain_rules() -> dict[str, str]:
    """Intents the rules answer directly, without the gate (data/rules/: intent -> utter_*)."""
    answers = {}
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            steps = rule.get("steps", [])
            if len(steps) == 2 and "intent" in steps[0]:
                action = str(steps[1].get("action", ""))
                if action.startswith("utter_"):
                    answers[str(steps[0]["intent"])] = action
    return answers


PLAIN_RULES = plain_rules()


async def run_conversation(agent: Any, texts: list[str], policy: Policy) -> Outcome:
    turns: list[Turn] = []
    offered = False
    for number, text in enumerate(texts, start=1):
        parse = await agent.parse_message(text)
        turns.append(turn_from_parse(number, text, parse))
        latest = turns[-1]
        after_offer = len(turns) > 1 and turns[-2].answered_with == "utter_offer_person"
        if latest.intent in PLAIN_RULES and not (latest.intent == "affirm" and after_offer):
            # as in the bot: small talk is answered by a rule, not checked by the gate
            turns[-1] = replace(latest, answered_with=PLAIN_RULES[latest.intent])
            continue
        decision = decide(turns, policy)
        if decision.hands_off:
            return Outcome(decision, number, offered)
        latest = turns[-1]
        if decision.gate == "clarify":
            answer = "utter_ask_rephrase"
        elif decision.gate == "offer_person":
            answer, offered = "utter_offer_person", True
        elif latest.intent.startswith("faq/"):
            answer = f"utter_{latest.intent}"
        else:
            answer = ANSWERS.get(latest.intent, f"utter_{latest.intent}")
        turns[-1] = replace(latest, answered_with=answer)
    return Outcome(None, None, offered)


@dataclass
class CompanyResult:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    reason_right: int = 0
    rule_right: int = 0
    rule_total: int = 0
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def read_conversations(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


async def evaluate_company(agent: Any, policy: Policy, path: Path = CONVERSATIONS) -> CompanyResult:
    data = read_conversations(path)
    result = CompanyResult()
    for conversation in data["conversations"]:
        turns = [str(t) for t in conversation["turns"]]
        outcome = await run_conversation(agent, turns, policy)
        decision = outcome.decision
        expected = bool(conversation["handoff"])
        got = decision is not None
        reason = decision.reason if decision else None
        rule = decision.rule.name if decision and decision.rule else None
        if expected and got:
            result.tp += 1
            result.reason_right += reason == conversation["reason"]
            if conversation["reason"] == "out_of_policy":
                result.rule_total += 1
                result.rule_right += rule == conversation["rule"]
        elif got:
            result.fp += 1
        elif expected:
            result.fn += 1
        else:
            result.tn += 1
        if got != expected or (
            got and (reason, rule) != (conversation["reason"], conversation["rule"])
        ):
            result.mistakes.append(
                {
                    "id": conversation["id"],
                    "expected": [conversation["reason"], conversation["rule"]],
                    "got": [reason, rule],
                    "turn": outcome.turn,
                    "signals": [f.name for f in decision.signals] if decision else [],
                    "turns": turns,
                }
            )
    return result


def bitext(intent: str) -> list[str]:
    with (DATASETS / "bitext" / "bitext_customer_service_8k_sample.csv").open(
        encoding="utf-8-sig"
    ) as f:
        return [row["utterance"] for row in csv.DictReader(f) if row["intent"] == intent]


def benign() -> dict[str, list[str]]:
    with (DATASETS / "banking77" / "test.csv").open(encoding="utf-8") as f:
        banking = [row["text"] for row in csv.DictReader(f)]
    clinc = json.loads((DATASETS / "clinc150" / "data_full.json").read_text())
    return {
        "banking77 test": banking,
        "clinc150 test": [text for text, _ in clinc["test"]],
        "clinc150 oos_test": [text for text, _ in clinc["oos_test"]],
    }


async def single_turn(agent: Any, texts: list[str], policy: Policy) -> Counter[str]:
    reasons: Counter[str] = Counter()
    for text in texts:
        outcome = await run_conversation(agent, [text], policy)
        if outcome.offered and not outcome.decision:
            reasons["offered a person"] += 1
        else:
            reasons[outcome.decision.reason if outcome.decision else "none"] += 1
    return reasons


def summary(company: CompanyResult) -> dict[str, Any]:
    return {
        "conversations": company.tp + company.fp + company.fn + company.tn,
        "precision": company.precision,
        "recall": company.recall,
        "reason_accuracy": company.reason_right / company.tp if company.tp else 0.0,
        "rule_accuracy": company.rule_right / company.rule_total if company.rule_total else 0.0,
        "confusion": {"tp": company.tp, "fp": company.fp, "fn": company.fn, "tn": company.tn},
        "mistakes": company.mistakes,
    }


async def evaluate(
    model: Path, quick: bool, policy_path: Path = ROOT / "policy.yml"
) -> dict[str, Any]:
    from rasa.core.agent import Agent

    policy = load_policy(policy_path)
    agent = Agent.load(str(model))
    started = time.monotonic()
    company = await evaluate_company(agent, policy)
    report: dict[str, Any] = {
        "model": model.name,
        "company": summary(company),
        "languages": {
            code: summary(await evaluate_company(agent, policy, path))
            for code, path in LANGUAGE_CONVERSATIONS.items()
        },
        "told": {
            code: summary(await evaluate_company(agent, policy, path))
            for code, path in TOLD_CONVERSATIONS.items()
        },
        "must_hand_off": {},
        "benign": {},
    }
    if not quick:
        for intent in ("contact_human_agent", "complaint"):
            reasons = await single_turn(agent, bitext(intent), policy)
            total = sum(reasons.values())
            report["must_hand_off"][f"bitext {intent}"] = {
                "utterances": total,
                "handed_off": (total - reasons["none"] - reasons["offered a person"]) / total,
                "offered": reasons["offered a person"] / total,
                "reasons": dict(reasons),
            }
        for name, texts in benign().items():
            reasons = await single_turn(agent, texts, policy)
            total = sum(reasons.values())
            report["benign"][name] = {
                "utterances": total,
                "false_handoff_rate": (reasons["frustration"] + reasons["explicit_request"])
                / total,
                "any_handoff_rate": (total - reasons["none"] - reasons["offered a person"]) / total,
                "offered": reasons["offered a person"] / total,
                "reasons": dict(reasons),
            }
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def print_report(report: dict[str, Any]) -> None:
    c = report["company"]
    print(f"model                  {report['model']}")
    print(f"company conversations  {c['conversations']}  {c['confusion']}")
    print(f"  handoff precision    {c['precision']:.3f}")
    print(f"  handoff recall       {c['recall']:.3f}")
    print(f"  reason accuracy      {c['reason_accuracy']:.3f}  (of correct handoffs)")
    print(f"  rule accuracy        {c['rule_accuracy']:.3f}  (of correct out_of_policy handoffs)")
    for code, r in report["languages"].items():
        print(
            f"{code} conversations       {r['conversations']}  precision {r['precision']:.3f}, "
            f"recall {r['recall']:.3f}, reason {r['reason_accuracy']:.3f}  {r['confusion']}"
        )
    for code, r in report["told"].items():
        print(
            f"told, {code}            {r['conversations']}  precision {r['precision']:.3f}, "
            f"recall {r['recall']:.3f}, reason {r['reason_accuracy']:.3f}  {r['confusion']}"
        )
    for name, r in report["must_hand_off"].items():
        print(
            f"{name:22} handed off {r['handed_off']:.3f}, offered a person {r['offered']:.3f}"
            f" of {r['utterances']}  {r['reasons']}"
        )
    for name, r in report["benign"].items():
        print(
            f"{name:22} false handoffs {r['false_handoff_rate']:.4f}, any handoff "
            f"{r['any_handoff_rate']:.4f}, offered a person {r['offered']:.4f}"
            f" of {r['utterances']}  {r['reasons']}"
        )
    mistakes = c["mistakes"] + [
        m for part in ("languages", "told") for r in report[part].values() for m in r["mistakes"]
    ]
    print(f"mistakes on the labelled conversations ({len(mistakes)}):")
    for m in mistakes:
        got = f"got {m['got']} at turn {m['turn']} {m['signals']}"
        print(f"  {m['id']:6} expected {m['expected']} {got}")
        print(f"         {m['turns']}")
    print(f"({report['seconds']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="company conversations only")
    # another policy file: what one signal adds, say (its weight 0 in a copy)
    parser.add_argument("--policy", type=Path, default=ROOT / "policy.yml")
    args = parser.parse_args()
    report = asyncio.run(evaluate(args.model or model_path(), args.quick, args.policy))
    print_report(report)
    out = ROOT / "results" / "handoff_eval.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
