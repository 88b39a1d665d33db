"""The shop's own systems, as the service reaches them: its customers, orders and Autoships, and
the remedies agents give (bot/shop/contract.py is the contract; SHOP_CONNECTOR chooses)."""
