from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "plnorg.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
