"""Workshop workflows, one module per subject (registration, attendance,
feedback, notices, reminders, workshop). Issue 10 adds `clock.py` here."""
