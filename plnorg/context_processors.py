from django.conf import settings

from core.permissions import user_roles


def site(request) -> dict:
    roles = user_roles(request.user) if hasattr(request, "user") else {"anonymous"}
    return {
        "SITE_NAME": settings.SITE_NAME,
        "ORGANIZATION_NAME": settings.ORGANIZATION_NAME,
        "roles": roles,
        "member": getattr(request, "member", None),
    }
