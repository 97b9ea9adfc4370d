"""The simulated household of tasks 1-3 and 5-13: actors moving between places, carrying objects.

The world keeps two kinds of state:

* the truth: where every actor really is (also before any sentence says so) and where every
  object lies, so that every action it proposes is physically possible;
* what a reader of the story knows so far, with the line ids of the facts that tell it, which is
  what questions are asked about (a question is only asked when the story determines its answer).

It updates this state incrementally, one event at a time. The checker
(:mod:`memnet.generate.checker`) does not use this class: it recomputes answers by scanning the
event log, so a bookkeeping mistake here shows up as a mismatch.
"""

from __future__ import annotations

import random

from memnet.generate import events as ev


def weighted_choice(rng: random.Random, weights: dict):
    """One key of ``weights``, drawn with the odds its values give."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class HouseholdWorld:
    """State of one story's world.

    Args:
        rng: the story's random source.
        actors: the cast ("Mary", "John", ...).
        places: the rooms they move between.
        objects: the things they can carry (may be empty).
        deny_known_place: the chance that "X is not in P" denies the place the story last put X in
            (X has then left for somewhere unstated); otherwise it names a place X is not in.
        busy_take_odds: how likely a take by an actor who already carries something is, relative
            to one by an empty-handed actor (1: all possible takes are equally likely).
    """

    def __init__(self, rng: random.Random, actors, places, objects=(), deny_known_place: float = 0.0,
                 busy_take_odds: float = 1.0):
        self.rng = rng
        self.deny_known_place = float(deny_known_place)
        self.busy_take_odds = float(busy_take_odds)
        self.actors = list(actors)
        self.places = list(places)
        self.objects = list(objects)
        # The truth. Actors start somewhere unstated; an object nobody has touched yet is wherever
        # its first taker is (the story never said otherwise).
        self.true_place = {actor: rng.choice(self.places) for actor in self.actors}
        self.holder: dict[str, str | None] = {obj: None for obj in self.objects}
        self.floor_place: dict[str, str | None] = {obj: None for obj in self.objects}
        self.touched: set[str] = set()
        # What the reader knows about each actor's place: ("at", place), ("not", place),
        # ("either", (place, place)) or None, and the lines that say so.
        self.knowledge: dict[str, tuple | None] = {actor: None for actor in self.actors}
        self.knowledge_lines: dict[str, tuple[int, ...]] = {actor: () for actor in self.actors}
        # Objects: the latest line that took, dropped or gave each one; the reader-known place of a
        # dropped object with the line that located its dropper; the holder's moves since taking it.
        self.object_line: dict[str, int | None] = {obj: None for obj in self.objects}
        self.dropped_at: dict[str, tuple[str, int] | None] = {obj: None for obj in self.objects}
        self.moves_while_carried: dict[str, list[tuple[int, str]]] = {obj: [] for obj in self.objects}
        self.carrying: dict[str, list[str]] = {actor: [] for actor in self.actors}
        self.handling_lines: dict[str, list[int]] = {actor: [] for actor in self.actors}
        self.latest_gift: tuple[int, ev.Give] | None = None
        self.latest_handlers: tuple[str, ...] = ()  # who took, dropped or gave last (giver first)
        self.previous_line: int | None = None  # the line a pronoun sentence refers back to

    # --- proposing actions ------------------------------------------------------------------------

    def other_place(self, *avoid: str) -> str:
        """A random place that is none of ``avoid``."""
        return self.rng.choice([place for place in self.places if place not in avoid])

    def candidate_takes(self) -> list[ev.Take]:
        return [
            ev.Take(actor, obj)
            for actor in self.actors
            for obj in self.objects
            if self.holder[obj] is None and (obj not in self.touched or self.floor_place[obj] == self.true_place[actor])
        ]

    def candidate_drops(self) -> list[ev.Drop]:
        return [ev.Drop(actor, obj) for actor in self.actors for obj in self.carrying[actor]]

    def candidate_gifts(self) -> list[ev.Give]:
        return [
            ev.Give(giver, obj, receiver)
            for giver in self.actors
            for obj in self.carrying[giver]
            for receiver in self.actors
            if receiver != giver and self.true_place[receiver] == self.true_place[giver]
        ]

    def random_action(self, weights: dict[str, float]) -> ev.Event:
        """One random possible action; ``weights`` gives the odds of each kind.

        Kinds: "move", "take", "drop", "give", "is_in", "not_in", "either_in". A kind with no
        possible action right now (nothing to drop, nobody to give to) is left out of the draw.
        """
        rng = self.rng
        options: dict[str, list] = {}
        for kind in weights:
            if kind == "take":
                options[kind] = self.candidate_takes()
            elif kind == "drop":
                options[kind] = self.candidate_drops()
            elif kind == "give":
                options[kind] = self.candidate_gifts()
        kinds = [kind for kind in weights if kind not in options or options[kind]]
        kind = weighted_choice(rng, {k: weights[k] for k in kinds})
        if kind == "take" and self.busy_take_odds != 1.0:
            odds = [self.busy_take_odds if self.carrying[take.actor] else 1.0 for take in options[kind]]
            return rng.choices(options[kind], weights=odds)[0]
        if kind in options:
            return rng.choice(options[kind])
        actor = rng.choice(self.actors)
        here = self.true_place[actor]
        if kind == "move":
            return ev.Move((actor,), self.other_place(here))
        if kind == "is_in":
            return ev.IsIn(actor, self.other_place(here))
        if kind == "not_in":
            known = self.knowledge[actor]
            denies = self.deny_known_place > 0 and known is not None and known[0] == "at"
            if denies and rng.random() < self.deny_known_place:
                return ev.NotIn(actor, known[1])
            return ev.NotIn(actor, self.other_place(here))
        if kind == "either_in":
            first, second = rng.sample(self.places, 2)
            return ev.EitherIn(actor, (first, second))
        raise ValueError(f"unknown action kind {kind!r}")

    # --- applying them ------------------------------------------------------------------------------

    def apply(self, event: ev.Event, line_id: int) -> None:
        """Update the truth and the reader's knowledge with one stated event."""
        match event:
            case ev.Move(actors=actors, place=place, pronoun=pronoun):
                for actor in actors:
                    self.true_place[actor] = place
                    self.knowledge[actor] = ("at", place)
                    # A pronoun sentence needs the sentence naming its actors to be understood.
                    self.knowledge_lines[actor] = (self.previous_line, line_id) if pronoun else (line_id,)
                    for obj in self.carrying[actor]:
                        self.moves_while_carried[obj].append((line_id, place))
            case ev.IsIn(actor=actor, place=place):
                self.true_place[actor] = place
                self.knowledge[actor] = ("at", place)
                self.knowledge_lines[actor] = (line_id,)
            case ev.NotIn(actor=actor, place=place):
                if self.true_place[actor] == place:  # denies where X was: X has left, for a place not said
                    self.true_place[actor] = self.other_place(place)
                self.knowledge[actor] = ("not", place)
                self.knowledge_lines[actor] = (line_id,)
            case ev.EitherIn(actor=actor, places=places):
                self.true_place[actor] = self.rng.choice(places)
                self.knowledge[actor] = ("either", places)
                self.knowledge_lines[actor] = (line_id,)
            case ev.Take(actor=actor, obj=obj):
                self.touched.add(obj)
                self.holder[obj], self.floor_place[obj] = actor, None
                self.carrying[actor].append(obj)
                self.handling_lines[actor].append(line_id)
                self.latest_handlers = (actor,)
                self.object_line[obj] = line_id
                self.dropped_at[obj] = None
                self.moves_while_carried[obj] = []
            case ev.Drop(actor=actor, obj=obj):
                self.holder[obj], self.floor_place[obj] = None, self.true_place[actor]
                self.carrying[actor].remove(obj)
                self.handling_lines[actor].append(line_id)
                self.latest_handlers = (actor,)
                self.object_line[obj] = line_id
                known = self.knowledge[actor]
                located = known is not None and known[0] == "at"
                self.dropped_at[obj] = (known[1], self.knowledge_lines[actor][-1]) if located else None
            case ev.Give(giver=giver, obj=obj, receiver=receiver):
                self.holder[obj] = receiver
                self.carrying[giver].remove(obj)
                self.carrying[receiver].append(obj)
                self.handling_lines[giver].append(line_id)
                self.handling_lines[receiver].append(line_id)
                self.object_line[obj] = line_id
                self.moves_while_carried[obj] = []
                self.latest_gift = (line_id, event)
                self.latest_handlers = (giver, receiver)
            case _:
                raise TypeError(f"the household world has no event {event!r}")
        self.previous_line = line_id

    # --- what the reader knows -------------------------------------------------------------------

    def located_actors(self) -> list[str]:
        """Actors whose place the story has stated (and not since made uncertain)."""
        return [actor for actor in self.actors if self.knowledge[actor] and self.knowledge[actor][0] == "at"]

    def object_location(self, obj: str) -> tuple[str, tuple[int, int]] | None:
        """Where the reader can tell ``obj`` is, with the (object line, location line) that tell it."""
        holder = self.holder[obj]
        if holder is not None:
            known = self.knowledge[holder]
            if known is None or known[0] != "at" or self.object_line[obj] is None:
                return None
            return known[1], (self.object_line[obj], self.knowledge_lines[holder][-1])
        if self.dropped_at[obj] is not None:
            place, location_line = self.dropped_at[obj]
            return place, (self.object_line[obj], location_line)
        return None
