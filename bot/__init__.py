"""Fetch & Home bot service: the only public face of the virtual agent."""
