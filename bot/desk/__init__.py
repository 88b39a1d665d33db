"""The desk's domain: the handoff queue and who may claim (queue.py), remedies within the authority
matrix (remedies.py, replacements.py), desk users and sign-in sessions (staff.py, passwords.py),
who is on the desk (presence.py), the supervisor's figures (stats.py) and the FAQ search (faq.py).

Plain functions over a database session or a unit of work (bot/conversations/lifecycle.py); they
raise the errors of bot/errors.py and know nothing of HTTP. The views are in api/.
"""
