from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_wal(sender, connection, **kwargs) -> None:
    """Embedded mode: WAL lets the web process read while the worker writes."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL;")
            cursor.execute("PRAGMA synchronous=NORMAL;")


class PlnorgConfig(AppConfig):
    name = "plnorg"
    verbose_name = "plnorg"

    def ready(self) -> None:
        connection_created.connect(_sqlite_wal, dispatch_uid="plnorg-sqlite-wal")
        from core.admin import admin_date_fields_bound

        admin_date_fields_bound()
