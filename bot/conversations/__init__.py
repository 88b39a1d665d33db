"""Conversations, whatever channel they come from: the mode graph and the unit of work
(lifecycle.py), stored messages and the rules for who may write (messages.py), the satisfaction
score (survey.py), text that is refused (controls.py) and live fan-out to sockets (hub.py).

May import bot.db, bot.errors and bot.settings; never the channel, the desk, the views or
operations. Only hub.py knows of aiohttp (the websockets it delivers to).
"""
