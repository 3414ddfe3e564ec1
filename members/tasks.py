from celery import shared_task

from . import outbox


@shared_task(name="members.send_email")
def send_email(*, email_id: int) -> bool:
    return outbox.email_send(email_id=email_id)


@shared_task(name="members.send_pending_emails")
def send_pending_emails() -> int:
    return outbox.emails_send_pending()


@shared_task(name="members.purge_old_emails")
def purge_old_emails() -> int:
    return outbox.emails_purge_sent()
