"""What the action server loads (`python -m rasa_sdk --actions actions.server`).

Only the custom actions: rasa-sdk imports every submodule of the package it is given, and the NLU
component in actions/nlu/linear.py belongs to the Rasa server, not here.
"""

from actions.gate import ActionGate, ActionHandoff
from actions.handback import ActionHandedBack
from actions.handoff.policy import current_policy
from actions.session import ActionSessionStart

# Validate policy.yml now: a broken policy must stop the action server at start, with the
# error naming the file and key, not fail the first customer's message.
current_policy()

__all__ = ["ActionGate", "ActionHandedBack", "ActionHandoff", "ActionSessionStart"]
