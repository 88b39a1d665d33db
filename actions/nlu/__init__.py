"""What runs inside the Rasa server: the linear intent classifier over n-grams and sentence
embeddings (linear.py), the MiniLM sentence encoder run with numpy (encoder.py), and `rasa` with
the action server's answers checked once (rasa_run.py).

Imports Rasa and numpy, never rasa-sdk or bot/. linear.py and encoder.py are training inputs:
editing them gives a new model (bot/ops/launcher.py's fingerprint).
"""
