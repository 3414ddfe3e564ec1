"""The leaders' dashboard: aggregate figures (groups of 5 or more people),
computed into snapshots by a periodic task, its page and its CSV export."""
