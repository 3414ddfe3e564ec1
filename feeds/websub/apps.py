from django.apps import AppConfig


class WebSubConfig(AppConfig):
    name = "feeds.websub"
    label = "websub"
    verbose_name = "Instant updates (WebSub)"
