"""Introductions: one person introducing two members (`Introduction`), and
what the nightly computation stores: suggestions of who might meet whom,
connectors, and the runs themselves.

The tables keep the names they had before the models moved here
(`members_introduction`, `plnorg_*`), so moving them changed no data.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member


class IntroductionQuerySet(models.QuerySet):
    def involving(self, member: "Member") -> "IntroductionQuerySet":
        return self.filter(models.Q(member_a=member) | models.Q(member_b=member))

    def visible_to(self, user) -> "IntroductionQuerySet":
        """The two members, the sender and admins may open an introduction."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_staff:
            return self
        return self.filter(models.Q(member_a__user=user) | models.Q(member_b__user=user) | models.Q(sender=user))


class Introduction(models.Model):
    """One person introducing two members to each other, with a note.

    The pair is stored in id order (member_a.pk < member_b.pk) and is unique:
    a pair is introduced at most once, so a declined introduction is never
    repeated. Each side answers separately (accept or decline), and two weeks
    after both accepted each is asked whether they met.
    """

    class Answer(models.TextChoices):
        PENDING = "pending", _("Not answered yet")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    class Met(models.TextChoices):
        UNKNOWN = "", _("Not asked yet")
        YES = "yes", _("Yes, we met")
        NOT_YET = "not_yet", _("Not yet")
        NO = "no", _("No")

    member_a = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="introductions_as_a")
    member_b = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="introductions_as_b")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="introductions_sent",
        help_text=_("Who made the introduction (a leader from a suggestion, or any colleague)."),
    )
    from_suggestion = models.BooleanField(default=False, help_text=_("Sent from a computed suggestion."))
    note = models.TextField(_("note"), max_length=2000, blank=True)
    reason = models.CharField(
        _("reason"), max_length=300, blank=True, help_text=_("Why they might meet, e.g. 'both follow X and Y'.")
    )
    crosses_teams = models.BooleanField(default=False, help_text=_("The two were in different teams when introduced."))
    a_answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.PENDING)
    b_answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.PENDING)
    a_answered_at = models.DateTimeField(null=True, blank=True)
    b_answered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True, help_text=_("When the second side accepted."))
    follow_up_sent_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When both were asked 'did you meet?' (once).")
    )
    a_met = models.CharField(max_length=8, choices=Met.choices, default=Met.UNKNOWN, blank=True)
    b_met = models.CharField(max_length=8, choices=Met.choices, default=Met.UNKNOWN, blank=True)
    met_at = models.DateTimeField(null=True, blank=True, help_text=_("When the first side said they met."))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = IntroductionQuerySet.as_manager()

    class Meta:
        db_table = "members_introduction"  # its table from before it moved out of members
        ordering = ["-created_at", "-id"]
        verbose_name = _("introduction")
        verbose_name_plural = _("introductions")
        constraints = [
            models.UniqueConstraint(fields=["member_a", "member_b"], name="introduction_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(member_a__lt=models.F("member_b")), name="introduction_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_a} ↔ {self.member_b}"

    class State(models.TextChoices):
        SENT = "sent", _("Waiting for both")
        ACCEPTED_BY_ONE = "accepted_by_one", _("Accepted by one")
        ACCEPTED = "accepted", _("Accepted by both")
        DECLINED = "declined", _("Declined")
        MET = "met", _("Met")

    @property
    def state(self) -> str:
        answers = {self.a_answer, self.b_answer}
        if self.Answer.DECLINED in answers:
            return self.State.DECLINED
        if answers == {self.Answer.ACCEPTED}:
            return self.State.MET if self.met_at else self.State.ACCEPTED
        if self.Answer.ACCEPTED in answers:
            return self.State.ACCEPTED_BY_ONE
        return self.State.SENT

    @property
    def state_label(self) -> str:
        return self.State(self.state).label

    @property
    def both_accepted(self) -> bool:
        return self.a_answer == self.b_answer == self.Answer.ACCEPTED

    def side(self, member: "Member") -> str | None:
        """ "a" or "b" for one of the pair, else None."""
        if member is None:
            return None
        if member.pk == self.member_a_id:
            return "a"
        if member.pk == self.member_b_id:
            return "b"
        return None

    def other(self, member: "Member") -> "Member":
        return self.member_b if self.side(member) == "a" else self.member_a

    def answer_of(self, member: "Member") -> str:
        side = self.side(member)
        return getattr(self, f"{side}_answer") if side else ""

    def met_of(self, member: "Member") -> str:
        side = self.side(member)
        return getattr(self, f"{side}_met") if side else ""


class IntroductionSuggestion(models.Model):
    """A computed suggestion that two opted-in members of different teams
    might meet, with the reason. Recomputed by the task `plnorg.compute_introductions`;
    a row stays (for the funnel's history) but is only shown while `is_current`."""

    member_a = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    member_b = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="The larger of the two similarities, for ordering.")
    source_similarity = models.FloatField(help_text="Jaccard similarity of their shared sources.")
    topic_similarity = models.FloatField(help_text="Jaccard similarity of their topics.")
    common_sources = models.JSONField(default=list, blank=True, help_text="Titles of sources both share (a few).")
    common_topics = models.JSONField(default=list, blank=True, help_text="Topics both have (a few).")
    is_stranger = models.BooleanField(
        default=False, help_text="Similar topics (Jaccard >= 0.3) but different sources (Jaccard < 0.1)."
    )
    is_current = models.BooleanField(default=True, db_index=True)
    first_suggested_at = models.DateTimeField(db_index=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "plnorg_introductionsuggestion"  # its table from before it moved out of plnorg
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["member_a", "member_b"], name="suggestion_unique_pair")]

    def __str__(self) -> str:
        return f"{self.member_a_id} ↔ {self.member_b_id} ({self.score:.2f})"


class ConnectorStatus(models.Model):
    """Whether a member bridges communities of the shared-source graph.
    Shown to leaders only as counts per team (teams of 5+), and to the member
    privately."""

    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="+")
    is_connector = models.BooleanField(default=False)
    betweenness = models.FloatField(default=0.0)
    communities_spanned = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "plnorg_connectorstatus"

    def __str__(self) -> str:
        return f"{self.member_id} connector={self.is_connector}"


class IntroductionComputation(models.Model):
    """The last run of the suggestions or connectors computation."""

    kind = models.CharField(max_length=20, unique=True, help_text="suggestions or connectors")
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True, help_text="Figures of the run (members, pairs, edges...).")

    class Meta:
        db_table = "plnorg_introductioncomputation"

    def __str__(self) -> str:
        return f"{self.kind} at {self.computed_at:%Y-%m-%d %H:%M}"
