"""Instant updates: WebSub subscriptions at the hubs feeds advertise.

The pipeline (feeds.ingest, feeds.services) calls in here; this app uses only
the pipeline's parts (models, the safe fetcher, the parser, the store), never
the pipeline itself (an import-linter contract holds it). See services.py.
"""
