"""Chat channels' workflows, one module per subject: `channels` (adding,
changing, pausing, resuming, who manages them), `delivery` (the outbox:
writing, sending, retrying, the test message, the periodic announcements)
and `messages` (what each delivery says, built when it is sent)."""
