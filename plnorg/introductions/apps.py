from django.apps import AppConfig


class IntroductionsConfig(AppConfig):
    name = "plnorg.introductions"
    label = "introductions"
    verbose_name = "Introductions"

    def ready(self) -> None:
        from . import lifecycle

        lifecycle.register()
