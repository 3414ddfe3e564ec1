from django.utils import timezone

from .services import member_ensure


class MemberTimezoneMiddleware:
    """Attach `request.member` and render times in the member's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.member = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            member = getattr(user, "member", None) if hasattr(user, "member") else None
            request.member = member or member_ensure(user=user)
            timezone.activate(request.member.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)
