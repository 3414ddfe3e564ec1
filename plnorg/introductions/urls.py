from django.urls import path

from core import permissions as perm

from . import views

perm.register(
    {
        "people_you_might_meet": perm.Access(roles=perm.MEMBERS, text="Your introductions"),
        "introductions_opt_in": perm.Access(roles=perm.MEMBERS, text="introductions", methods=("POST",)),
        "introductions_suggestions": perm.Access(roles=perm.LEADERS, text="Introductions you sent"),
        "introduction_new": perm.Access(roles=perm.MEMBERS, text="Introduce two colleagues"),
        "introduction_detail": perm.Access(
            roles=perm.MEMBERS,
            text="Introduction",
            sample=views.sample_introduction,
            object_rule="only the two people introduced, the sender and admins",
        ),
        "introduction_answer": perm.Access(
            roles=perm.MEMBERS, text="accept", methods=("POST",), object_rule="only the two people introduced"
        ),
        "introduction_met": perm.Access(
            roles=perm.MEMBERS, text="did you meet", methods=("POST",), object_rule="only the two people introduced"
        ),
    }
)

urlpatterns = [
    path("introductions/", views.people_you_might_meet, name="people_you_might_meet"),
    path("introductions/opt-in", views.introductions_opt_in, name="introductions_opt_in"),
    path("introductions/new/", views.introduction_new, name="introduction_new"),
    path("introductions/<int:introduction_id>/", views.introduction_detail, name="introduction_detail"),
    path("introductions/<int:introduction_id>/answer", views.introduction_answer, name="introduction_answer"),
    path("introductions/<int:introduction_id>/met", views.introduction_met, name="introduction_met"),
    path("leaders/introductions/", views.introductions_suggestions, name="introductions_suggestions"),
]
