from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Feeds"

    def ready(self) -> None:
        from . import lifecycle, saxdriver

        lifecycle.register()
        saxdriver.install()  # feedparser reads XML with expat's text buffered (feeds/saxdriver.py)
