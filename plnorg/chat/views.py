"""Chat channel pages: the list, add/edit, a channel's page (settings, last
delivery and error, recent deliveries, the test button), pause/resume and
removal. Admins see every channel; a facilitator only those of workshops
they facilitate (404 otherwise, from ``Channel.objects.manageable_by``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import ChannelForm
from .models import Channel, Delivery
from .services.channels import channel_delete, channel_pause, channel_resume, channel_save
from .services.delivery import channel_test_send

RECENT_DELIVERIES = 20


def _channels(request: HttpRequest):
    return Channel.objects.manageable_by(request.user).select_related("workshop")


def _channel_or_404(request: HttpRequest, pk: int) -> Channel:
    return get_object_or_404(_channels(request), pk=pk)


def sample_channel(user) -> dict | None:
    """The permission map's sample: a channel the user manages (a demo
    channel), else any channel (the roles that may not open it)."""
    channels = Channel.objects.order_by("pk")
    channel = (channels.manageable_by(user).first() if user is not None else None) or channels.first()
    return {"pk": channel.pk} if channel else None


def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(_channels(request).order_by("workshop_id", "name", "pk"))
    return render(request, "chat/channel_list.html", {"channels": channels})


def _edit(request: HttpRequest, channel: Channel) -> HttpResponse:
    creating = channel.pk is None
    initial = {}
    if creating and request.GET.get("workshop", "").isdigit():
        initial["workshop"] = int(request.GET["workshop"])
    form = ChannelForm(request.POST or None, instance=channel, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = channel_save(
                channel=form.save(commit=False),
                actor=request.user,
                webhook_url=form.cleaned_data["webhook_url"],
                matrix_access_token=form.cleaned_data["matrix_access_token"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Channel saved. Send a test message to check it."))
            return redirect("chat:channel_detail", pk=saved.pk)
    return render(request, "chat/channel_form.html", {"form": form, "channel": channel, "creating": creating})


def channel_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, Channel())


def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, _channel_or_404(request, pk))


def channel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel_or_404(request, pk)
    deliveries = list(channel.deliveries.order_by("-created_at", "-pk")[:RECENT_DELIVERIES])
    return render(request, "chat/channel_detail.html", {"channel": channel, "deliveries": deliveries})


@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel_or_404(request, pk)
    delivery = channel_test_send(channel=channel, actor=request.user)
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, _("Test message sent: it should be in the channel now."))
    elif delivery.status == Delivery.Status.SKIPPED:
        messages.warning(request, _("This is a demo channel: plnorg never sends to it."))
    else:
        messages.error(request, _("The test message failed: %(error)s") % {"error": delivery.detail})
    return redirect("chat:channel_detail", pk=channel.pk)


@require_POST
def channel_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel_or_404(request, pk)
    channel_pause(
        channel_id=channel.pk, actor=request.user, reason=_("Paused by %(name)s.") % {"name": request.user.email}
    )
    messages.success(request, _("Paused: messages wait until you resume the channel."))
    return redirect("chat:channel_detail", pk=channel.pk)


@require_POST
def channel_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel_or_404(request, pk)
    channel_resume(channel_id=channel.pk, actor=request.user)
    messages.success(request, _("Resumed: waiting messages go out within a minute."))
    return redirect("chat:channel_detail", pk=channel.pk)


def channel_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel_or_404(request, pk)
    if request.method == "POST":
        channel_delete(channel=channel, actor=request.user)
        messages.success(request, _("Channel removed. plnorg no longer posts there."))
        return redirect("chat:channels")
    return render(request, "chat/channel_delete.html", {"channel": channel})
