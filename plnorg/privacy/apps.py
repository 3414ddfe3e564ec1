from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "plnorg.privacy"
    label = "privacy"
    verbose_name = "Privacy"
