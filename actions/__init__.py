"""The Rasa side of the Fetch & Home bot, in three runtimes (Python 3.10).

- handoff/: the pure handoff core (policy, turns, signals, decision, brief), imported by the
  action server and by the service alike;
- nlu/: components that run inside the Rasa server (the classifier, the encoder, the runner);
- gate.py, handback.py, session.py, server.py: the action server's rasa-sdk adapters, which
  turn a tracker into the core's inputs and its decisions into events.

Nothing here imports bot/; this file imports nothing, so the service can import handoff/.
"""
