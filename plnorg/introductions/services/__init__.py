"""Introductions workflows, one module per subject: `introduction` (sending
one, answering, "did you meet?"), `suggestions` (the nightly suggestions and
connectors) and `funnel` (the leaders' figures)."""
