"""The customer's side, the website channel: HTTP views (views.py) and the websocket
(socket.py), the units of work behind them (intake.py), queue positions for waiting customers
(positions.py), flood limits (limits.py), call-back requests (callbacks.py), conversation tokens
(tokens.py) and the shop-signed customer identity (identity.py).

The top room: may import conversations/, rasa/, desk/ (the queue a customer waits in), web/ and
bot.services; nothing imports it but the app and the pages. Views import no sqlalchemy.
"""
