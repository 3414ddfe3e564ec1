from django.apps import AppConfig


class ReaderConfig(AppConfig):
    """Reading the shared stream where people already read: per-member read
    state, keyboard shortcuts, app passwords and the Google Reader and Fever
    APIs (a feature app nested in feeds: it reads the stream's querysets)."""

    name = "feeds.reader"
    label = "reader"
    verbose_name = "Reader"

    def ready(self) -> None:
        from . import lifecycle

        lifecycle.register()
