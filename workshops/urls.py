from django.urls import path

from core import permissions as perm

from .clock import urls as clock_urls
from .views import facilitator, member

app_name = "workshops"

MANAGE_RULE = "only workshops I facilitate (admins: all)"


def _published(user):
    from .models import Workshop

    pk = Workshop.objects.exclude(status=Workshop.Status.DRAFT).order_by("pk").values_list("pk", flat=True).first()
    return {"pk": pk} if pk else None


def _managed_workshop(user):
    from .models import Workshop

    qs = Workshop.objects.filter(sessions__isnull=False)
    if user is not None and (user.is_staff or user.is_facilitator):
        qs = qs.managed_by(user)
    return qs.order_by("pk").first()


def _managed(user):
    workshop = _managed_workshop(user)
    return {"pk": workshop.pk} if workshop else None


def _managed_session(user):
    workshop = _managed_workshop(user)
    if workshop is None:
        return None
    return {"pk": workshop.pk, "session_pk": workshop.session_list[0].pk}


def _attended(user):
    from django.utils import timezone

    from .models import Registration

    if user is None:
        return None
    registrations = Registration.objects.filter(member__user=user).attendees().select_related("workshop")
    for registration in registrations.prefetch_related("workshop__sessions"):
        if registration.workshop.ends_at and registration.workshop.ends_at <= timezone.now():
            return {"pk": registration.workshop_id}
    return None


def _calendar_token(user):
    from .models import CalendarFeed

    if user is None:
        return None
    feed, _created = CalendarFeed.objects.get_or_create(member=user.member)
    return {"token": feed.token}


def _none(user):
    return None


def _sample_pair(user):
    workshop = _managed_workshop(user)
    return {"pk": workshop.pk if workshop else 1, "registration_pk": 1}


perm.register(
    {
        "workshops:list": perm.Access(roles=perm.MEMBERS, text="Upcoming workshops"),
        "workshops:mine": perm.Access(roles=perm.MEMBERS, text="My workshops"),
        "workshops:detail": perm.Access(
            roles=perm.MEMBERS, text="Sessions", sample=_published, object_rule="drafts: only their facilitators"
        ),
        "workshops:register": perm.Access(roles=perm.MEMBERS, text="registered", sample=_published, methods=("POST",)),
        "workshops:cancel_registration": perm.Access(
            roles=perm.MEMBERS,
            text="cancelled",
            sample=_published,
            methods=("POST",),
            object_rule="only my registration",
        ),
        "workshops:ics": perm.Access(
            roles=perm.MEMBERS, text="BEGIN:VCALENDAR", sample=_published, content_type="text/calendar"
        ),
        "workshops:calendar_feed": perm.Access(
            roles=perm.PUBLIC,
            text="BEGIN:VCALENDAR",
            sample=_calendar_token,
            content_type="text/calendar",
            object_rule="the secret token of an active member",
        ),
        "workshops:calendar_reset": perm.Access(
            roles=perm.MEMBERS, text="calendar address", methods=("POST",), object_rule="only my own calendar"
        ),
        "workshops:feedback": perm.Access(
            roles=perm.MEMBERS, text="Your feedback", sample=_attended, object_rule="only workshops I attended"
        ),
        "workshops:material_file": perm.Access(
            roles=perm.MEMBERS,
            text="(file download)",
            sample=_none,
            content_type="application/octet-stream",
            object_rule="only people holding a seat, and the facilitators",
        ),
        "workshops:resources": perm.Access(roles=perm.MEMBERS, text="Resource library"),
        "workshops:resource_file": perm.Access(
            roles=perm.MEMBERS, text="(file download)", sample=_none, content_type="application/octet-stream"
        ),
        "workshops:feedback_summary": perm.Access(roles=perm.LEADERS, text="Workshop feedback"),
        # Facilitators and admins.
        "workshops:manage": perm.Access(roles=perm.FACILITATORS, text="Workshops you run"),
        "workshops:create": perm.Access(roles=perm.FACILITATORS, text="New workshop"),
        "workshops:edit": perm.Access(roles=perm.FACILITATORS, text="Edit", sample=_managed, object_rule=MANAGE_RULE),
        "workshops:publish": perm.Access(
            roles=perm.FACILITATORS, text="Published", sample=_managed, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:cancel": perm.Access(
            roles=perm.FACILITATORS, text="cancelled", sample=_managed, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:duplicate": perm.Access(
            roles=perm.FACILITATORS, text="copy", sample=_managed, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:roster": perm.Access(
            roles=perm.FACILITATORS, text="Roster", sample=_managed, object_rule=MANAGE_RULE
        ),
        "workshops:roster_csv": perm.Access(
            roles=perm.FACILITATORS,
            text="name,email",
            sample=_managed,
            content_type="text/csv",
            object_rule=MANAGE_RULE,
        ),
        "workshops:register_other": perm.Access(
            roles=perm.FACILITATORS, text="registered", sample=_managed, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:approve": perm.Access(
            roles=perm.FACILITATORS, text="Approved", sample=_sample_pair, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:roster_cancel": perm.Access(
            roles=perm.FACILITATORS, text="cancelled", sample=_sample_pair, methods=("POST",), object_rule=MANAGE_RULE
        ),
        "workshops:attendance": perm.Access(
            roles=perm.FACILITATORS, text="Attendance", sample=_managed_session, object_rule=MANAGE_RULE
        ),
        "workshops:feedback_results": perm.Access(
            roles=perm.FACILITATORS, text="Feedback", sample=_managed, object_rule=MANAGE_RULE
        ),
        "workshops:follow_up": perm.Access(
            roles=perm.FACILITATORS, text="Follow-up", sample=_managed, object_rule=MANAGE_RULE
        ),
        "workshops:materials": perm.Access(
            roles=perm.FACILITATORS, text="Materials", sample=_managed, object_rule=MANAGE_RULE
        ),
        "workshops:material_remove": perm.Access(
            roles=perm.FACILITATORS,
            text="removed",
            sample=lambda user: {"pk": 1, "material_pk": 1},
            methods=("POST",),
            object_rule=MANAGE_RULE,
        ),
        "workshops:resource_create": perm.Access(roles=perm.FACILITATORS, text="Add to the library"),
        "workshops:resource_remove": perm.Access(
            roles=perm.FACILITATORS, text="Removed", sample=lambda user: {"pk": 1}, methods=("POST",)
        ),
    }
)

urlpatterns = [
    path("workshops/", member.workshop_list, name="list"),
    path("workshops/mine/", member.my_workshops, name="mine"),
    path("workshops/resources/", member.resource_list, name="resources"),
    path("workshops/resources/new/", facilitator.resource_create, name="resource_create"),
    path("workshops/resources/<int:pk>/file/", member.resource_file, name="resource_file"),
    path("workshops/resources/<int:pk>/remove/", facilitator.resource_remove, name="resource_remove"),
    path("workshops/feedback-summary/", member.feedback_summary, name="feedback_summary"),
    path("workshops/calendar/reset/", member.calendar_reset, name="calendar_reset"),
    path("workshops/calendar/<str:token>.ics", member.calendar_feed, name="calendar_feed"),
    path("workshops/materials/<int:pk>/file/", member.material_file, name="material_file"),
    path("workshops/manage/", facilitator.manage_list, name="manage"),
    path("workshops/new/", facilitator.workshop_create, name="create"),
    path("workshops/<int:pk>/", member.workshop_detail, name="detail"),
    path("workshops/<int:pk>/register/", member.register, name="register"),
    path("workshops/<int:pk>/cancel-registration/", member.cancel_registration, name="cancel_registration"),
    path("workshops/<int:pk>/calendar.ics", member.workshop_calendar, name="ics"),
    path("workshops/<int:pk>/feedback/", member.feedback, name="feedback"),
    path("workshops/<int:pk>/edit/", facilitator.workshop_edit, name="edit"),
    path("workshops/<int:pk>/publish/", facilitator.publish, name="publish"),
    path("workshops/<int:pk>/cancel/", facilitator.cancel, name="cancel"),
    path("workshops/<int:pk>/duplicate/", facilitator.duplicate, name="duplicate"),
    path("workshops/<int:pk>/roster/", facilitator.roster, name="roster"),
    path("workshops/<int:pk>/roster.csv", facilitator.roster_csv, name="roster_csv"),
    path("workshops/<int:pk>/roster/add/", facilitator.register_other, name="register_other"),
    path("workshops/<int:pk>/roster/<int:registration_pk>/approve/", facilitator.approve, name="approve"),
    path("workshops/<int:pk>/roster/<int:registration_pk>/cancel/", facilitator.roster_cancel, name="roster_cancel"),
    path("workshops/<int:pk>/sessions/<int:session_pk>/attendance/", facilitator.attendance, name="attendance"),
    path("workshops/<int:pk>/feedback/answers/", facilitator.feedback_results, name="feedback_results"),
    path("workshops/<int:pk>/follow-up/", facilitator.follow_up_view, name="follow_up"),
    path("workshops/<int:pk>/materials/", facilitator.materials, name="materials"),
    path(
        "workshops/<int:pk>/materials/<int:material_pk>/remove/",
        facilitator.material_remove,
        name="material_remove",
    ),
]

# Time on the clock (workshops/clock/urls.py), in the same namespace.
urlpatterns += clock_urls.urlpatterns
