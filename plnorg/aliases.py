"""Old addresses kept for one release after the package layout changed
(issue 21); remove them in the release after.

Models that moved to an app of their own moved their Django admin pages with
them (the admin's address carries the app: /admin/plnorg/dashboardsnapshot/
is now /admin/dashboard/dashboardsnapshot/). The old addresses answer a
redirect to the new ones, so admins' bookmarks and links keep working.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponseRedirect
from django.urls import re_path, reverse

# (old app label, model name) -> the app label the model has now.
MOVED_ADMIN_MODELS: dict[tuple[str, str], str] = {
    ("members", "introduction"): "introductions",
    ("plnorg", "introductionsuggestion"): "introductions",
    ("plnorg", "connectorstatus"): "introductions",
    ("plnorg", "introductioncomputation"): "introductions",
    ("plnorg", "dashboardsnapshot"): "dashboard",
    ("workshops", "clockpolicy"): "clock",
    ("workshops", "timeentry"): "clock",
    ("workshops", "timeentryhistory"): "clock",
    ("workshops", "clocktimer"): "clock",
    ("workshops", "clockweeklock"): "clock",
}


def admin_moved(request, old: str, rest: str = ""):
    """Redirect an old admin address of a moved model to its new one (the rest
    of the path and the query string kept)."""
    app_label, _, model_name = old.partition("/")
    new_label = MOVED_ADMIN_MODELS.get((app_label, model_name))
    if new_label is None:
        raise Http404
    target = f"{reverse('admin:index')}{new_label}/{model_name}/{rest}"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(f"{target}?{query}" if query else target)


_OLD = "|".join(re.escape(f"{app}/{model}") for app, model in MOVED_ADMIN_MODELS)

urlpatterns = [
    re_path(rf"^admin/(?P<old>{_OLD})/(?P<rest>.*)$", admin_moved, name="admin_moved"),
]
