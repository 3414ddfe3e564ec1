from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground as a Django app: it has no models, only the `backup` and
    `restore` management commands."""

    name = "core"
    verbose_name = "core"
