from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up

        from . import lifecycle
        from .views import on_user_signed_up

        lifecycle.register()
        user_signed_up.connect(on_user_signed_up, dispatch_uid="members-invitation-accept")
