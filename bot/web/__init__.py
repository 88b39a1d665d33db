"""Web plumbing every room's views share: JSON bodies, path ids, allowed origins and the one
error-to-response mapping (http.py), security headers (security.py), flood counters
(ratelimit.py), and the pages people use with their static files (pages.py, static/).

May import bot.errors, bot.settings and bot.services; knows nothing of the domain (pages.py
reads the shop identity helper of channel/ to pre-fill the demo shop's signed-in customer).
"""
