"""The conversation designer's loop: review what the bot missed, label it into the training data,
retrain a candidate, compare it with the serving model, and promote it (bot/designer/views.py).

Nothing is imported here: nlu_files.py is also read by the held-out data tests, in the Rasa
environment, which has none of the service's dependencies."""
