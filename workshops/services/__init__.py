"""Workshop workflows, one module per subject (registration, attendance,
feedback, notices, reminders, workshop). Time on the clock has its own app
(workshops/clock/services.py)."""
