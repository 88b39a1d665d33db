"""The shared handoff core: one policy loader for policy.yml (policy.py), customer messages as
plain `Turn`s with one meaning of "misunderstood" (turns.py), the frustration signals
(signals.py), the gate's decision (decision.py), the case brief for the person (brief.py), and how
all of them see text in any of the four languages (text.py).

Pure Python (3.10+, PyYAML only): imports nothing of bot/, of Rasa or rasa-sdk, or of the rest of
actions/, so the action server and the service mean the same by each rule.
"""
