"""The ground every plnorg app stands on: the permission map, the member-data
registry, admin base classes, storage, observability, the fail-open cache, the
database-outage middleware, error pages and backups.

It imports no feature app and nothing from the project package (an
import-linter contract in `make test` holds that); apps plug into it by
registration (`core.permissions.register`, `core.lifecycle.register_data`).
"""
