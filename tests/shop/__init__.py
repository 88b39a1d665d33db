"""The reference shop backend (backend.py) and its tests."""
