"""Everything the service says to the Rasa server: its HTTP client (client.py), the short-lived
tokens for Rasa's API (auth.py), whether the action server answers (health.py), and the bot's
turn for each customer message, with back-pressure and the relay of Rasa's answers (turn.py).

Not the Rasa package: the service only talks to Rasa over HTTP. May import conversations/,
the desk's queue (a handoff opens a ticket), bot.db and bot.services.
"""
