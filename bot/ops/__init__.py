"""Operations: run the whole system on one machine (launcher.py, `make run`), the service's
command line (cli.py, `python -m bot`), and demo data for a fresh machine (demo.py: customers,
orders, Autoships; demo_desk.py: desk accounts).

May import any room; nothing in the service imports it back.
"""
