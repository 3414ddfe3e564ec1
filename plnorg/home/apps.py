from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "plnorg.home"
    label = "home"
    verbose_name = "Home"
