from celery import shared_task


# Connectors' sampled betweenness takes most of a minute on a dense graph of
# 1,000 members, so this task has limits of its own (still well below the
# broker's one-hour visibility timeout).
@shared_task(name="plnorg.compute_introductions", soft_time_limit=900, time_limit=1200)
def compute_introductions() -> None:
    """Nightly: introduction suggestions and connectors (each skipped when
    switched off in the organization settings)."""
    from .services.suggestions import introductions_compute

    introductions_compute()


@shared_task(name="plnorg.introduction_follow_ups")
def introduction_follow_ups() -> None:
    """Ask "did you meet?" two weeks after both accepted (once per introduction)."""
    from .services.introduction import introductions_follow_up

    introductions_follow_up()
