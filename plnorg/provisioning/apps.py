from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "plnorg.provisioning"
    label = "provisioning"
    verbose_name = "Provisioning (SCIM)"

    def ready(self) -> None:
        from . import lifecycle

        lifecycle.register()
