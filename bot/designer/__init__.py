"""The conversation designer's loop: review what the bot missed, label it into the training data,
retrain a candidate, compare it with the serving model, and promote it (bot/designer/views.py)."""

from bot.designer.loop import Designer, build
from bot.designer.views import DESIGNER, setup_routes

__all__ = ["DESIGNER", "Designer", "build", "setup_routes"]
