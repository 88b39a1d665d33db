"""Custom actions for the Fetch & Home bot (rasa-sdk)."""
