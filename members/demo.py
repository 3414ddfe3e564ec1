"""Demo people for `seed_demo`: an example organization of about 30 members."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import FACILITATORS, LEADERS, Member, Team, User
from .services import member_create, role_grant, role_groups_ensure

DEMO_PASSWORD = "plnorg-demo"  # noqa: S105 - the public demo password, printed and in the README
DEMO_DOMAIN = "example.com"

# (team, parent, [(email local part, display name, job title), ...]); the first
# person listed is the team's manager.
TEAMS: list[tuple[str, str | None, list[tuple[str, str, str]]]] = [
    (
        "Leadership",
        None,
        [
            ("ceo", "Cora Ellis", "Chief Executive"),
            ("cfo", "Felix Ortega", "Finance Director"),
            ("coo", "Oona Park", "Operations Director"),
            ("cto", "Tariq Osei", "Technology Director"),
            ("people", "Priya Nair", "People Director"),
        ],
    ),
    (
        "Engineering",
        "Leadership",
        [
            ("manager", "Mara Novak", "Engineering Manager"),
            ("employee", "Ana Silva", "Software Engineer"),
            ("ben", "Ben Okafor", "Software Engineer"),
            ("chen", "Chen Wei", "Site Reliability Engineer"),
            ("dana", "Dana Kim", "Data Engineer"),
            ("eli", "Eli Brooks", "Frontend Engineer"),
            ("fatima", "Fatima Zahra", "QA Engineer"),
        ],
    ),
    (
        "Research",
        "Leadership",
        [
            ("rhea", "Rhea Lindqvist", "Research Lead"),
            ("sam", "Sam Adeyemi", "Researcher"),
            ("tomas", "Tomás Ruiz", "Data Scientist"),
            ("uma", "Uma Patel", "Researcher"),
            ("victor", "Victor Hale", "Research Assistant"),
            ("wen", "Wen Zhao", "Statistician"),
        ],
    ),
    (
        "Customer Success",
        "Leadership",
        [
            ("xavier", "Xavier Dubois", "Customer Success Lead"),
            ("yara", "Yara Haddad", "Account Manager"),
            ("zoe", "Zoe Fischer", "Support Specialist"),
            ("amir", "Amir Rahimi", "Support Specialist"),
            ("bella", "Bella Costa", "Trainer"),
        ],
    ),
    (
        "Learning & Development",
        "Leadership",
        [
            ("facilitator", "Lena Moreau", "Learning Facilitator"),
            ("kofi", "Kofi Mensah", "Instructional Designer"),
            ("lucia", "Lucía Romero", "Learning Specialist"),
            ("mika", "Mika Tanaka", "Coach"),
            ("nils", "Nils Berg", "Content Curator"),
        ],
    ),
    (
        "Design",
        "Leadership",
        [
            ("dora", "Dora Vidal", "Design Lead"),
            ("gus", "Gus Lindahl", "Designer"),
            ("hana", "Hana Sato", "Designer"),
        ],
    ),
]

# People with nothing registered yet (the "new member" of the page checks).
NEWCOMERS = [("newcomer", "Noor Amini", "Analyst", "Customer Success")]
ADMINS = [("admin", "Adele Admin", "Administrator")]
# A trainee rotating between teams, in none yet. With Design (3) and the admin
# (no team) that makes 5 people the leaders' dashboard merges into "Other
# teams": the demo shows that group without ever naming a team under 5.
UNASSIGNED = [("iris", "Iris Quinn", "Graduate Trainee")]

# plnorg was rolled out team by team: how many weeks ago each team joined
# (people of a team a couple of days apart), or a person when named here.
# Everyone joined before the workshops and the time they take part in.
JOINED_WEEKS_AGO = {
    "Leadership": 30,
    "Learning & Development": 29,
    "Engineering": 26,
    "Research": 24,
    "Customer Success": 18,
    "Design": 10,
    "admin": 30,
    "iris": 6,
    "newcomer": 0,
}


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


@transaction.atomic
def seed_people() -> dict[str, Member]:
    """Create (idempotently) the demo teams and people; return members by local part."""
    role_groups_ensure()
    members: dict[str, Member] = {}
    teams: dict[str, Team] = {}
    for team_name, parent_name, people in TEAMS:
        team, _ = Team.objects.get_or_create(name=team_name)
        team.parent = teams.get(parent_name) if parent_name else None
        teams[team_name] = team
        for index, (local, name, title) in enumerate(people):
            members[local] = _person(local, name, title, team)
            if index == 0:
                team.manager = members[local].user
        team.save()
    for local, name, title, team_name in NEWCOMERS:
        members[local] = _person(local, name, title, teams[team_name])
    for local, name, title in ADMINS:
        members[local] = _person(local, name, title, None, is_staff=True)
    for local, name, title in UNASSIGNED:
        members[local] = _person(local, name, title, None)
    role_grant(user=members["ceo"].user, group_name=LEADERS)
    role_grant(user=members["facilitator"].user, group_name=FACILITATORS)
    role_grant(user=members["kofi"].user, group_name=FACILITATORS)
    # The organization has been using plnorg for months, so charts show a history.
    _join_dates(members)
    # Demo members are varied in their time zones, as real ones are.
    for local, tz in {"chen": "Asia/Shanghai", "rhea": "Europe/Stockholm", "xavier": "America/New_York"}.items():
        Member.objects.filter(pk=members[local].pk).update(time_zone=tz)
    return members


def _join_dates(members: dict[str, Member]) -> None:
    """Date each person's joining by the rollout waves of JOINED_WEEKS_AGO."""
    now = timezone.now()
    position: dict[str, int] = {}
    for _team, _parent, people in TEAMS:
        position |= {local: index for index, (local, _name, _title) in enumerate(people)}
    for local, member in members.items():
        weeks = JOINED_WEEKS_AGO[local if local in JOINED_WEEKS_AGO else member.team.name]
        joined = now - timedelta(weeks=weeks) + timedelta(days=2 * position.get(local, 0))
        Member.objects.filter(pk=member.pk).update(created_at=joined)
        User.objects.filter(pk=member.user_id).update(date_joined=joined)


def _person(local: str, name: str, title: str, team: Team | None, *, is_staff: bool = False) -> Member:
    user = User.objects.filter(email=demo_email(local)).first()
    if user is None:
        return member_create(
            email=demo_email(local),
            password=DEMO_PASSWORD,
            display_name=name,
            team=team,
            job_title=title,
            is_staff=is_staff,
        )
    member = user.member
    member.team = team
    member.save(update_fields=["team"])
    return member


DEMO_LOGINS = [
    ("admin", "admin", "Django admin, organization set-up"),
    ("leader (CEO)", "ceo", "the leaders' dashboard"),
    ("facilitator", "facilitator", "workshops and curation"),
    ("manager", "manager", "approves the Engineering team's time"),
    ("employee", "employee", "an Engineering member with a full PLN"),
    ("new member", "newcomer", "has registered nothing yet"),
]
