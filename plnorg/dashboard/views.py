"""The leaders' dashboard and its CSV export (leaders and admins)."""

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.spreadsheets import csv_writer
from members.models import OrganizationSettings
from plnorg.introductions.services.funnel import introductions_tile_context

from . import charts
from .services import PERIOD_LABELS, PERIODS, dashboard_snapshot, setup_checklist


def _period(request) -> str:
    period = request.GET.get("period", "4w")
    return period if period in PERIODS else "4w"


def _pct(value):
    return None if value is None else round(value * 100, 1)


FIGURES_CACHE_SECONDS = 6 * 3600


def dashboard(request):
    period = _period(request)
    snapshot = dashboard_snapshot(period=period)
    context = {
        "period": period,
        "periods": [(key, PERIOD_LABELS[key]) for key in PERIODS],
        "snapshot": snapshot,
        # Outside the cached figures: the page says so as soon as they are old.
        "stale": snapshot.is_stale(),
        "figures": _figures_html(request, snapshot),
        "admin_tools": request.user.is_staff,
        "checklist": _open_checklist() if request.user.is_staff else None,
    }
    # Live (cheap) figures: the introductions funnel.
    context.update(introductions_tile_context())
    return render(request, "plnorg/dashboard.html", context)


def _open_checklist() -> list[dict] | None:
    """The set-up checklist while anything on it is still to do; once
    everything is done it goes away (admins keep their tools)."""
    items = setup_checklist()
    return None if all(item["done"] for item in items) else items


def _figures_html(request, snapshot) -> str:
    """The headline figures, charts and tables, rendered once per snapshot.

    They depend on nothing but the snapshot (and the language), so the HTML is
    cached under the snapshot's time: a new snapshot is a new key, and the old
    one expires on its own.
    """
    data = _shown_data(snapshot)
    network = "n" if data["network"] else "-"
    key = f"dashboard:figures:{snapshot.period}:{snapshot.computed_at.timestamp()}:{network}:{get_language()}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("plnorg/includes/dashboard_figures.html", _figures_context(data), request=request)
        cache.set(key, html, FIGURES_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template rendered it, escaping every value


def _shown_data(snapshot) -> dict:
    """The snapshot's figures as the organization's switches allow today: a
    switch turned off hides its figures at once, not at the next snapshot."""
    data = dict(snapshot.data)
    if not OrganizationSettings.get().network_figures_enabled:
        data["network"] = None
    return data


def _figures_context(data: dict) -> dict:
    weeks = data["weekly"]["weeks"]
    week_labels = [w["week"][5:] for w in weeks]
    chart_list = [
        {
            "id": "participation",
            "title": _("Participation rate per week (%)"),
            "svg": charts.line_chart(
                title=_("Participation rate per week, last 26 weeks"),
                labels=week_labels,
                series=[(_("participation %"), [_pct(w["participation_rate"]) for w in weeks])],
            ),
            "columns": [_("Week of"), _("Participation %")],
            "rows": [[w["week"], _pct(w["participation_rate"])] for w in weeks],
        },
        {
            "id": "entries",
            "title": _("Shared entries per week"),
            "svg": charts.line_chart(
                title=_("Shared entries per week, last 26 weeks"),
                labels=week_labels,
                series=[(_("entries"), [w["entries"] for w in weeks])],
            ),
            "columns": [_("Week of"), _("Entries")],
            "rows": [[w["week"], w["entries"]] for w in weeks],
        },
        {
            "id": "platforms",
            "title": _("Shared sources by platform"),
            "svg": charts.bar_chart(
                title=_("Shared sources by platform"),
                labels=[p["platform"] for p in data["platforms"]],
                values=[p["feeds"] for p in data["platforms"]],
            ),
            "columns": [_("Platform"), _("Feeds")],
            "rows": [[p["platform"], p["feeds"]] for p in data["platforms"]],
        },
        {
            "id": "teams",
            "title": _("Participation by team (%)"),
            "svg": charts.bar_chart(
                title=_("Participation by team, teams of 5 or more"),
                labels=[t["team"] for t in data["teams"]],
                values=[_pct(t["participation_rate"]) for t in data["teams"]],
                unit="%",
            ),
            "columns": [_("Team"), _("Members"), _("Participation %"), _("Active sharers")],
            "rows": [
                [t["team"], t["members"], _pct(t["participation_rate"]), t["active_sharers"]] for t in data["teams"]
            ],
        },
    ]
    chart_list.extend(_app_charts(data))
    return {"data": data, "headline": data["headline"], "charts": chart_list}


def _app_charts(data: dict) -> list[dict]:
    time = data.get("time")
    if not time:
        return []
    from workshops.clock.models import Activity

    activity_names = dict(Activity.choices)
    return [
        {
            "id": "hours-per-week",
            "title": _("Paid PLN hours per week"),
            "svg": charts.line_chart(
                title=_("Paid PLN hours per week, last 26 weeks"),
                labels=[w["week"][5:] for w in time["per_week"]],
                series=[(_("hours"), [w["hours"] for w in time["per_week"]])],
            ),
            "columns": [_("Week of"), _("Hours")],
            "rows": [[w["week"], w["hours"]] for w in time["per_week"]],
        },
        {
            "id": "hours-by-activity",
            "title": _("Hours by activity"),
            "svg": charts.bar_chart(
                title=_("Hours by activity: Seek, Sense, Share, Workshop, Mentoring"),
                labels=[str(activity_names.get(a["activity"], a["activity"])) for a in time["by_activity"]],
                values=[a["hours"] for a in time["by_activity"]],
                unit=" h",
            ),
            "columns": [_("Activity"), _("Hours")],
            "rows": [[str(activity_names.get(a["activity"], a["activity"])), a["hours"]] for a in time["by_activity"]],
        },
        {
            "id": "hours-by-team",
            "title": _("Hours by team"),
            "svg": charts.bar_chart(
                title=_("Paid PLN hours by team, teams of 5 or more"),
                labels=[t["team"] for t in time["by_team"]],
                values=[t["hours"] for t in time["by_team"]],
                unit=" h",
            ),
            "columns": [_("Team"), _("Hours")],
            "rows": [[t["team"], t["hours"]] for t in time["by_team"]],
        },
    ]


def dashboard_export(request):
    period = _period(request)
    data = _shown_data(dashboard_snapshot(period=period))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plnorg-dashboard-{period}.csv"'
    writer = csv_writer(response)
    writer.writerow(["section", "figure", "current", "previous"])
    head = data["headline"]
    writer.writerow(
        [
            "headline",
            "participation_rate",
            head["participation_rate"]["current"],
            head["participation_rate"]["previous"],
        ]
    )
    writer.writerow(["headline", "members", head["members"], ""])
    writer.writerow(["headline", "participating", head["participating"], ""])
    for key in ("active_sharers", "entries"):
        writer.writerow(["headline", key, head[key]["current"], head[key]["previous"]])
    for fig in data.get("extra_figures", []):
        writer.writerow(["headline", fig["key"], fig["current"], fig["previous"]])
    for row in (data.get("time") or {}).get("by_team", []):
        writer.writerow(["teams", f"{row['team']} hours", row["hours"], ""])
    for row in (data.get("time") or {}).get("by_activity", []):
        writer.writerow(["activities", f"{row['activity']} hours", row["hours"], ""])
    effect = data.get("workshop_effect")
    if effect:
        for window in effect["windows"]:
            writer.writerow(
                ["workshop_effect", f"attendees added within {window['days']} days", window["attendee_share"], ""]
            )
            writer.writerow(
                ["workshop_effect", f"others added within {window['days']} days", window["other_share"], ""]
            )
    for week in data["weekly"]["weeks"]:
        writer.writerow(["weekly", f"participation_rate {week['week']}", week["participation_rate"], ""])
        writer.writerow(["weekly", f"entries {week['week']}", week["entries"], ""])
    for row in data["platforms"]:
        writer.writerow(["platforms", row["platform"], row["feeds"], ""])
    for row in data["teams"]:
        writer.writerow(["teams", f"{row['team']} participation_rate", row["participation_rate"], ""])
        writer.writerow(["teams", f"{row['team']} active_sharers", row["active_sharers"], ""])
    network = data.get("network")
    if network:
        writer.writerow(["network", "portfolio", network["portfolio"]["current"], network["portfolio"]["previous"]])
        for key in ("unique_reach", "diversity", "silo_index"):
            writer.writerow(["network", key, network[key], ""])
        writer.writerow(["network", "publishing_share", network["feed_health"]["publishing_share"], ""])
        writer.writerow(["network", "failing_feeds", network["feed_health"]["failing"], ""])
    return response
