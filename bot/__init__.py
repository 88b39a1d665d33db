"""Fetch & Home bot service: the only public face of the virtual agent (aiohttp, Python 3.11).

Top level: the app factory (app.py), the one place configuration is read (settings.py), the
error hierarchy (errors.py) and what views need (services.py). Rooms, each saying what it may
import: web/ (HTTP plumbing and the pages), conversations/ (lifecycle and messages), rasa/ (the
client and the bot's turn), channel/ (the customer), desk/ (the desk's domain; desk/api/ its
views), designer/, db/ (storage) and ops/ (launcher, command line, demo data). The service never
imports Rasa or rasa-sdk; of actions/ it imports only the pure handoff core, actions/handoff/.
"""
