from celery import shared_task


@shared_task(name="plnorg.refresh_dashboard")
def refresh_dashboard() -> None:
    from .services import dashboard_refresh

    dashboard_refresh()
