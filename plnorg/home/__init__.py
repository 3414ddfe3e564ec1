"""The public landing page and a signed-in member's home page."""
