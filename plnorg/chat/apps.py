from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "plnorg.chat"
    label = "chat"
    verbose_name = "Chat channels"

    def ready(self) -> None:
        from core.announcements import subscribe

        from . import lifecycle
        from .services.delivery import announcement_receive

        lifecycle.register()
        # Picks (feeds) and workshops (workshops) announce through core;
        # this app listens there, since they must not import it.
        subscribe("chat", announcement_receive)
