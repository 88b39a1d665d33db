"""What the action server loads (`python -m rasa_sdk --actions actions.server`).

Only the custom actions: rasa-sdk imports every submodule of the package it is given, and the NLU
component in actions/nlu_linear.py belongs to the Rasa server, not here.
"""

from actions.gate import ActionGate, ActionHandoff
from actions.session import ActionSessionStart

__all__ = ["ActionGate", "ActionHandoff", "ActionSessionStart"]
