"""Who might meet whom, and who connects communities (networkx).

Only what members shared with colleagues is used (`Subscription.objects.shared()`
plus the interests on their profile). Suggestions pair opted-in members of
different teams whose shared sources or topics overlap (Jaccard similarity of
the member × source and member × topic sets of a bipartite graph); a pair
already introduced (whatever the answer) is never suggested again.

Connectors: the member graph (edge weight = shared-source Jaccard, weak edges
below EDGE_THRESHOLD dropped) is split into Louvain communities; a member is a
connector when their betweenness is in the top 10% and their neighbours span
at least two communities. Leaders see counts per team (teams of 5+ only); a
member sees privately whether they are one.

Both are computed by the periodic task `plnorg.compute_introductions` and
stored with their computed-at time; the organization's analytics switches turn
each off (hidden on every page, not computed).
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member, OrganizationSettings

from ..models import ConnectorStatus, Introduction, IntroductionComputation, IntroductionSuggestion

# Thresholds named in the issue.
SOURCE_THRESHOLD = 0.1  # a pair sharing sources: source Jaccard >= this
TOPIC_THRESHOLD = 0.3  # a pair sharing topics: topic Jaccard >= this
EDGE_THRESHOLD = 0.05  # member-graph edges below this are dropped
SUGGESTIONS_PER_MEMBER = 5
CONNECTOR_SHARE = 0.10
BETWEENNESS_SAMPLE = 200
SEED = 42
MIN_GROUP = 5  # leaders see aggregates of 5 or more people only


# --- Loading what members shared -----------------------------------------------


@dataclass(frozen=True)
class Person:
    team_id: int | None
    sources: frozenset[int]
    topics: frozenset[str]


def normalize_topic(topic: str) -> str:
    return " ".join(str(topic).lower().split())


def people_load(*, opted_in_only: bool) -> dict[int, Person]:
    """Active members (opted in to introductions, or all) with the sources
    they share and their topics (shared subscriptions' topics + interests)."""
    from feeds.models import Subscription

    members = Member.objects.active()
    if opted_in_only:
        members = members.filter(introductions_opt_in=True)
    sources: dict[int, set[int]] = defaultdict(set)
    topics: dict[int, set[str]] = defaultdict(set)
    teams: dict[int, int | None] = {}
    for pk, team_id, interests in members.values_list("pk", "team_id", "interests"):
        teams[pk] = team_id
        topics[pk].update(t for t in (normalize_topic(i) for i in interests.split(",")) if t)
    rows = (
        Subscription.objects.shared()
        .filter(member_id__in=members.values("pk"))
        .values_list("member_id", "feed_id", "kind", "topics")
    )
    for member_id, feed_id, kind, subscription_topics in rows:
        if kind == Subscription.Kind.SOURCE:
            sources[member_id].add(feed_id)
        topics[member_id].update(t for t in (normalize_topic(x) for x in subscription_topics or []) if t)
    return {
        pk: Person(team_id=team_id, sources=frozenset(sources[pk]), topics=frozenset(topics[pk]))
        for pk, team_id in teams.items()
    }


def _bipartite(people: dict[int, Person]):
    """The member × source and member × topic bipartite graphs (networkx)."""
    import networkx as nx

    by_source, by_topic = nx.Graph(), nx.Graph()
    for pk, person in people.items():
        by_source.add_edges_from((("m", pk), ("s", s)) for s in person.sources)
        by_topic.add_edges_from((("m", pk), ("t", t)) for t in person.topics)
    return by_source, by_topic


def _neighbour_index(graph, kind: str) -> dict[Any, list[int]]:
    """Item -> the member ids linked to it in a bipartite graph."""
    return {node[1]: [m[1] for m in graph[node]] for node in graph if node[0] == kind}


def jaccard(common: int, size_1: int, size_2: int) -> float:
    union = size_1 + size_2 - common
    return common / union if union else 0.0


# --- Suggestions -----------------------------------------------------------------


@dataclass(frozen=True)
class PairSuggestion:
    member_a: int
    member_b: int
    source_similarity: float
    topic_similarity: float
    common_sources: tuple[int, ...]  # rarest first
    common_topics: tuple[str, ...]  # rarest first

    @property
    def is_stranger(self) -> bool:
        return self.topic_similarity >= TOPIC_THRESHOLD and self.source_similarity < SOURCE_THRESHOLD

    @property
    def score(self) -> float:
        return max(self.source_similarity, self.topic_similarity)


def similar_pairs(
    people: dict[int, Person],
    *,
    excluded: set[tuple[int, int]] | frozenset = frozenset(),
    per_member: int = SUGGESTIONS_PER_MEMBER,
) -> list[PairSuggestion]:
    """For each member, the best `per_member` partners in another team whose
    source Jaccard >= SOURCE_THRESHOLD or topic Jaccard >= TOPIC_THRESHOLD,
    skipping `excluded` pairs (lower id first). Returns each chosen pair once,
    best first.

    Sources are many and sparse: common counts come from the member × source
    bipartite graph (each source's followers). Topics are few and dense: each
    member's topics are a bit mask, so a common count is one AND."""
    by_source, by_topic = _bipartite(people)
    ids = sorted(people)
    position = {pk: i for i, pk in enumerate(ids)}
    followers = {s: [position[m] for m in members] for s, members in _neighbour_index(by_source, "s").items()}
    topic_members = _neighbour_index(by_topic, "t")
    topic_bit = {t: 1 << i for i, t in enumerate(sorted(topic_members))}
    masks = [sum(topic_bit[t] for t in people[pk].topics) for pk in ids]
    source_sizes = [len(people[pk].sources) for pk in ids]
    topic_sizes = [len(people[pk].topics) for pk in ids]
    teams = [people[pk].team_id for pk in ids]
    skip: dict[int, set[int]] = defaultdict(set)
    for a, b in excluded:
        if a in position and b in position:
            skip[position[a]].add(position[b])
            skip[position[b]].add(position[a])
    chosen: set[tuple[int, int]] = set()
    for i, pk in enumerate(ids):
        common_sources: Counter[int] = Counter()
        for s in people[pk].sources:
            common_sources.update(followers[s])
        mask, team, sa, ta = masks[i], teams[i], source_sizes[i], topic_sizes[i]
        common_topics = [(mask & other).bit_count() for other in masks] if mask else None
        # Integer forms of the thresholds: c/(a+b-c) >= 0.3 <=> 13c >= 3(a+b);
        # c/(a+b-c) >= 0.1 <=> 11c >= a+b.
        candidates = {j for j, c in common_sources.items() if 11 * c >= sa + source_sizes[j]}
        if common_topics is not None:
            candidates.update(
                j
                for j, (c, tb) in enumerate(zip(common_topics, topic_sizes, strict=True))
                if c and 13 * c >= 3 * (ta + tb)
            )
        candidates.discard(i)
        candidates -= skip.get(i, set())
        # The hot loop (up to n per member): Jaccard inlined, no calls.
        topics_of = common_topics or [0] * len(ids)
        sources_of = common_sources.get
        scored = []
        for j in candidates:
            if teams[j] == team:
                continue
            c = sources_of(j, 0)
            source_j = c / (sa + source_sizes[j] - c) if c else 0.0
            c = topics_of[j]
            topic_j = c / (ta + topic_sizes[j] - c) if c else 0.0
            scored.append((source_j if source_j > topic_j else topic_j, -ids[j]))
        for _score, negative_other in heapq.nlargest(per_member, scored):
            other = -negative_other
            chosen.add((pk, other) if pk < other else (other, pk))
    popularity = {s: len(members) for s, members in followers.items()}
    results = []
    for a, b in chosen:
        pa, pb = people[a], people[b]
        shared_sources = sorted(pa.sources & pb.sources, key=lambda s: (popularity[s], s))
        shared_topics = sorted(pa.topics & pb.topics, key=lambda t: (len(topic_members[t]), t))
        results.append(
            PairSuggestion(
                member_a=a,
                member_b=b,
                source_similarity=round(jaccard(len(shared_sources), len(pa.sources), len(pb.sources)), 4),
                topic_similarity=round(jaccard(len(shared_topics), len(pa.topics), len(pb.topics)), 4),
                common_sources=tuple(shared_sources[:3]),
                common_topics=tuple(shared_topics[:3]),
            )
        )
    results.sort(key=lambda p: (-p.score, p.member_a, p.member_b))
    return results


def _and_join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("%(first)s and %(second)s") % {"first": items[0], "second": items[1]}


def suggestion_reason(*, sources: list[str], topics: list[str]) -> str:
    """'both follow X and Y; both write about Z' (at most two of each)."""
    parts = []
    if sources:
        parts.append(_("both follow %(items)s") % {"items": _and_join(sources[:2])})
    if topics:
        parts.append(_("both write about %(items)s") % {"items": _and_join(topics[:2])})
    return "; ".join(parts)


def introduced_pairs() -> set[tuple[int, int]]:
    return set(Introduction.objects.values_list("member_a_id", "member_b_id"))


def suggestions_compute(*, now: datetime | None = None) -> dict[str, Any]:
    """Recompute and store the suggestions (unless switched off)."""
    from feeds.models import Feed

    if not OrganizationSettings.get().introduction_suggestions_enabled:
        return {"skipped": True}
    now = now or timezone.now()
    started = time.perf_counter()
    people = people_load(opted_in_only=True)
    pairs = similar_pairs(people, excluded=introduced_pairs())
    feed_ids = {s for p in pairs for s in p.common_sources}
    titles = {pk: feed.display_title for pk, feed in Feed.objects.in_bulk(feed_ids).items()}
    rows = [
        IntroductionSuggestion(
            member_a_id=p.member_a,
            member_b_id=p.member_b,
            score=round(p.score, 4),
            source_similarity=p.source_similarity,
            topic_similarity=p.topic_similarity,
            common_sources=[titles[s] for s in p.common_sources if s in titles],
            common_topics=list(p.common_topics),
            is_stranger=p.is_stranger,
            is_current=True,
            first_suggested_at=now,
            computed_at=now,
        )
        for p in pairs
    ]
    with transaction.atomic():
        IntroductionSuggestion.objects.filter(is_current=True).update(is_current=False)
        IntroductionSuggestion.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["member_a", "member_b"],
            update_fields=[
                "score",
                "source_similarity",
                "topic_similarity",
                "common_sources",
                "common_topics",
                "is_stranger",
                "is_current",
                "computed_at",
            ],
        )
        duration_ms = int((time.perf_counter() - started) * 1000)
        figures = {"members": len(people), "suggestions": len(rows), "strangers": sum(r.is_stranger for r in rows)}
        IntroductionComputation.objects.update_or_create(
            kind="suggestions", defaults={"computed_at": now, "duration_ms": duration_ms, "data": figures}
        )
    return {**figures, "duration_ms": duration_ms}


def _eligible(prefix: str) -> Q:
    return Q(**{f"{prefix}__introductions_opt_in": True, f"{prefix}__user__is_active": True})


def current_suggestions() -> QuerySet[IntroductionSuggestion]:
    """Suggestions to show now: current, both still opted in and active, and
    not introduced since the last computation."""
    introduced = Introduction.objects.filter(member_a=OuterRef("member_a"), member_b=OuterRef("member_b"))
    return (
        IntroductionSuggestion.objects.filter(_eligible("member_a"), _eligible("member_b"), is_current=True)
        .exclude(Exists(introduced))
        .select_related("member_a__user", "member_a__team", "member_b__user", "member_b__team")
        .order_by("-score", "pk")
    )


def suggestions_for_member(member: Member) -> QuerySet[IntroductionSuggestion]:
    if not member.introductions_opt_in:
        return IntroductionSuggestion.objects.none()
    return current_suggestions().filter(Q(member_a=member) | Q(member_b=member))


# --- Connectors ------------------------------------------------------------------


def member_graph(people: dict[int, Person], *, threshold: float = EDGE_THRESHOLD):
    """Members (with at least one shared source) linked by shared-source
    Jaccard similarity; edges below `threshold` dropped."""
    import networkx as nx

    by_source, _by_topic = _bipartite(people)
    followers = _neighbour_index(by_source, "s")
    graph = nx.Graph()
    graph.add_nodes_from(pk for pk, person in people.items() if person.sources)
    for pk, person in people.items():
        counts: Counter[int] = Counter()
        for s in person.sources:
            counts.update(followers[s])
        for other, common in counts.items():
            if other <= pk:
                continue
            weight = jaccard(common, len(person.sources), len(people[other].sources))
            if weight >= threshold:
                graph.add_edge(pk, other, weight=weight)
    return graph


@dataclass(frozen=True)
class ConnectorResult:
    betweenness: float
    communities_spanned: int
    is_connector: bool


def connectors_find(graph, *, seed: int = SEED, sample: int = BETWEENNESS_SAMPLE) -> dict[Any, ConnectorResult]:
    """Louvain communities (fixed seed) and betweenness (sampled from `sample`
    nodes with a fixed seed when the graph is larger). A connector is in the
    top 10% by betweenness (and above zero) with neighbours in 2+ communities."""
    import networkx as nx

    n = graph.number_of_nodes()
    if n == 0:
        return {}
    communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    community_of = {node: index for index, members in enumerate(communities) for node in members}
    betweenness = nx.betweenness_centrality(graph, k=sample if n > sample else None, seed=seed)
    top_count = max(1, math.ceil(n * CONNECTOR_SHARE))
    ranked = sorted(graph.nodes, key=lambda node: (-betweenness[node], node))[:top_count]
    top = {node for node in ranked if betweenness[node] > 0}
    results = {}
    for node in graph.nodes:
        spanned = len({community_of[neighbour] for neighbour in graph[node]})
        results[node] = ConnectorResult(
            betweenness=round(betweenness[node], 6),
            communities_spanned=spanned,
            is_connector=node in top and spanned >= 2,
        )
    return results


def connectors_compute(*, now: datetime | None = None) -> dict[str, Any]:
    """Recompute and store who is a connector (unless switched off)."""
    if not OrganizationSettings.get().connectors_enabled:
        return {"skipped": True}
    now = now or timezone.now()
    started = time.perf_counter()
    graph = member_graph(people_load(opted_in_only=False))
    results = connectors_find(graph)
    with transaction.atomic():
        ConnectorStatus.objects.all().delete()
        ConnectorStatus.objects.bulk_create(
            [
                ConnectorStatus(
                    member_id=pk,
                    is_connector=r.is_connector,
                    betweenness=r.betweenness,
                    communities_spanned=min(r.communities_spanned, 32767),
                    computed_at=now,
                )
                for pk, r in results.items()
            ],
            batch_size=1000,
        )
        duration_ms = int((time.perf_counter() - started) * 1000)
        figures = {
            "members": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "connectors": sum(r.is_connector for r in results.values()),
        }
        IntroductionComputation.objects.update_or_create(
            kind="connectors", defaults={"computed_at": now, "duration_ms": duration_ms, "data": figures}
        )
    return {**figures, "duration_ms": duration_ms}


def connector_team_counts() -> list[dict[str, Any]]:
    """Connectors per team for leaders: teams of 5+ active members by name,
    smaller teams (and people without a team) merged into "other teams",
    which is left out too if it has fewer than 5 people."""
    sizes = {
        row["team_id"]: (row["team__name"], row["n"])
        for row in Member.objects.active().values("team_id", "team__name").annotate(n=Count("pk"))
    }
    connectors = dict(
        ConnectorStatus.objects.filter(is_connector=True, member__user__is_active=True)
        .values("member__team_id")
        .annotate(n=Count("pk"))
        .values_list("member__team_id", "n")
    )
    rows, other_members, other_connectors = [], 0, 0
    for team_id, (name, size) in sorted(sizes.items(), key=lambda item: item[1][0] or ""):
        if team_id is not None and size >= MIN_GROUP:
            rows.append({"team": name, "members": size, "connectors": connectors.get(team_id, 0)})
        else:
            other_members += size
            other_connectors += connectors.get(team_id, 0)
    if other_members >= MIN_GROUP:
        rows.append({"team": _("Other teams"), "members": other_members, "connectors": other_connectors})
    return rows


def member_connector_status(member: Member) -> ConnectorStatus | None:
    return ConnectorStatus.objects.filter(member=member).first()


def last_computation(kind: str) -> IntroductionComputation | None:
    return IntroductionComputation.objects.filter(kind=kind).first()


# --- The task -------------------------------------------------------------------


def introductions_compute(*, now: datetime | None = None) -> dict[str, Any]:
    """The nightly computation: suggestions and connectors, each unless off."""
    return {"suggestions": suggestions_compute(now=now), "connectors": connectors_compute(now=now)}
