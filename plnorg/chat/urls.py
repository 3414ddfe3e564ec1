from django.urls import path

from core import permissions as perm

from . import views

app_name = "chat"

RULE = "admins: every channel; facilitators: the channels of workshops they facilitate"

perm.register(
    {
        "chat:channels": perm.Access(roles=perm.FACILITATORS, text="Chat channels", object_rule=RULE),
        "chat:channel_new": perm.Access(roles=perm.FACILITATORS, text="Add a chat channel"),
        "chat:channel_detail": perm.Access(
            roles=perm.FACILITATORS, text="Send a test message", sample=views.sample_channel, object_rule=RULE
        ),
        "chat:channel_edit": perm.Access(
            roles=perm.FACILITATORS, text="Edit the chat channel", sample=views.sample_channel, object_rule=RULE
        ),
        "chat:channel_delete": perm.Access(
            roles=perm.FACILITATORS, text="Remove the chat channel", sample=views.sample_channel, object_rule=RULE
        ),
        "chat:channel_test": perm.Access(
            roles=perm.FACILITATORS,
            text="test message",
            sample=views.sample_channel,
            methods=("POST",),
            object_rule=RULE,
        ),
        "chat:channel_pause": perm.Access(
            roles=perm.FACILITATORS, text="paused", sample=views.sample_channel, methods=("POST",), object_rule=RULE
        ),
        "chat:channel_resume": perm.Access(
            roles=perm.FACILITATORS, text="resumed", sample=views.sample_channel, methods=("POST",), object_rule=RULE
        ),
    }
)

urlpatterns = [
    path("chat/channels/", views.channel_list, name="channels"),
    path("chat/channels/new/", views.channel_new, name="channel_new"),
    path("chat/channels/<int:pk>/", views.channel_detail, name="channel_detail"),
    path("chat/channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("chat/channels/<int:pk>/remove/", views.channel_delete_view, name="channel_delete"),
    path("chat/channels/<int:pk>/test", views.channel_test, name="channel_test"),
    path("chat/channels/<int:pk>/pause", views.channel_pause_view, name="channel_pause"),
    path("chat/channels/<int:pk>/resume", views.channel_resume_view, name="channel_resume"),
]
