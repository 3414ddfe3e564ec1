from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "workshops.clock"
    label = "clock"
    verbose_name = "Clock"

    def ready(self) -> None:
        from . import lifecycle

        lifecycle.register()
