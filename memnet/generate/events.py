"""Structured facts and questions: what a generated story *means*, independent of its wording.

Every statement line of a generated story carries one event below and every question line one
query. The generator writes sentences from them (:mod:`memnet.generate.lexicon`) and the checker
(:mod:`memnet.generate.checker`) recomputes each answer from the events alone, so a sentence is
never the source of truth for an answer.

Names are the words as written in the story ("Mary", "box of chocolates"); a place or an object is
its bare noun ("kitchen", "football").
"""

from __future__ import annotations

import dataclasses


# --- Events: one per statement line -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Move:
    """``actors`` went to ``place``.

    Args:
        actors: one actor, or two for "Mary and John went ..." (tasks 12, 13).
        place: where they went.
        time: the part of the day it happened (task 14): "yesterday", "morning", "afternoon", "evening".
        pronoun: the sentence names the actors by a pronoun ("Then she went ...", tasks 11, 13);
            they are the actors of the statement just before.
    """

    actors: tuple[str, ...]
    place: str
    time: str | None = None
    pronoun: bool = False


@dataclasses.dataclass(frozen=True)
class Take:
    """``actor`` picked up ``obj`` where they are."""

    actor: str
    obj: str


@dataclasses.dataclass(frozen=True)
class Drop:
    """``actor`` put down ``obj`` where they are."""

    actor: str
    obj: str


@dataclasses.dataclass(frozen=True)
class Give:
    """``giver`` handed ``obj`` to ``receiver`` (both in the same place)."""

    giver: str
    obj: str
    receiver: str


@dataclasses.dataclass(frozen=True)
class IsIn:
    """``actor`` is in ``place`` (task 9, 10)."""

    actor: str
    place: str


@dataclasses.dataclass(frozen=True)
class NotIn:
    """``actor`` is not (or no longer) in ``place`` (task 9)."""

    actor: str
    place: str


@dataclasses.dataclass(frozen=True)
class EitherIn:
    """``actor`` is either in ``places[0]`` or ``places[1]`` (task 10)."""

    actor: str
    places: tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Feels:
    """``actor`` is ``motive`` ("hungry", "thirsty", "tired", "bored"; task 20)."""

    actor: str
    motive: str


@dataclasses.dataclass(frozen=True)
class Relation:
    """``subject`` stands in ``relation`` to ``obj``.

    ``relation`` is one of the compass directions (tasks 4, 19: "north" means subject is north of
    obj), the positions "above", "below", "left", "right" (task 17), or the sizes "bigger" and
    "fits" (task 18: "fits" means subject fits inside obj).
    """

    subject: str
    relation: str
    obj: str


@dataclasses.dataclass(frozen=True)
class IsA:
    """``name`` is an animal of ``species`` (tasks 15, 16), singular ("mouse")."""

    name: str
    species: str


@dataclasses.dataclass(frozen=True)
class SpeciesFears:
    """Animals of ``species`` are afraid of animals of ``feared`` (task 15), singulars."""

    species: str
    feared: str


@dataclasses.dataclass(frozen=True)
class HasColor:
    """``name`` has colour ``color`` (task 16)."""

    name: str
    color: str


Event = Move | Take | Drop | Give | IsIn | NotIn | EitherIn | Feels | Relation | IsA | SpeciesFears | HasColor


# --- Queries: one per question line -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WhereIsActor:
    """Where is ``actor``? (tasks 1, 11, 12, 13)"""

    actor: str


@dataclasses.dataclass(frozen=True)
class WhereIsObject:
    """Where is ``obj``? (task 2)"""

    obj: str


@dataclasses.dataclass(frozen=True)
class WhereWasObjectBefore:
    """Where was ``obj`` before it was last brought to ``place``? (task 3)"""

    obj: str
    place: str


@dataclasses.dataclass(frozen=True)
class WhatIsInDirection:
    """Task 4: "What is north of the kitchen?" (``subject`` None) or "What is the kitchen north of?" (``obj`` None)."""

    relation: str
    subject: str | None = None
    obj: str | None = None


@dataclasses.dataclass(frozen=True)
class AboutGift:
    """Task 5: ask for the ``missing`` part ("giver", "obj", "receiver") of the latest matching gift."""

    missing: str
    giver: str | None = None
    obj: str | None = None
    receiver: str | None = None


@dataclasses.dataclass(frozen=True)
class IsActorIn:
    """Is ``actor`` in ``place``? yes / no / maybe (tasks 6, 9, 10)"""

    actor: str
    place: str


@dataclasses.dataclass(frozen=True)
class HowManyCarried:
    """How many objects is ``actor`` carrying? (task 7)"""

    actor: str


@dataclasses.dataclass(frozen=True)
class WhatCarried:
    """What is ``actor`` carrying? (task 8)"""

    actor: str


@dataclasses.dataclass(frozen=True)
class WhereWasActorBefore:
    """Where was ``actor`` before (the latest time they were in) ``place``? (task 14)"""

    actor: str
    place: str


@dataclasses.dataclass(frozen=True)
class WhatAfraidOf:
    """What is ``name`` afraid of? (task 15)"""

    name: str


@dataclasses.dataclass(frozen=True)
class WhatColor:
    """What color is ``name``? (task 16)"""

    name: str


@dataclasses.dataclass(frozen=True)
class IsRelated:
    """Is ``subject`` in ``relation`` to ``obj``? yes / no (task 17 positions, task 18 sizes)."""

    subject: str
    relation: str
    obj: str


@dataclasses.dataclass(frozen=True)
class HowToGo:
    """How do you go from ``start`` to ``goal``? (task 19)"""

    start: str
    goal: str


@dataclasses.dataclass(frozen=True)
class WhereWillGo:
    """Where will ``actor`` go? (task 20)"""

    actor: str


@dataclasses.dataclass(frozen=True)
class WhyWent:
    """Why did ``actor`` go to ``place``? (task 20)"""

    actor: str
    place: str


@dataclasses.dataclass(frozen=True)
class WhyGot:
    """Why did ``actor`` get ``obj``? (task 20)"""

    actor: str
    obj: str


Query = (
    WhereIsActor | WhereIsObject | WhereWasObjectBefore | WhatIsInDirection | AboutGift | IsActorIn
    | HowManyCarried | WhatCarried | WhereWasActorBefore | WhatAfraidOf | WhatColor | IsRelated | HowToGo
    | WhereWillGo | WhyWent | WhyGot
)


# --- Story lines ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement line: its id in the story, its sentence and what it means."""

    line_id: int
    text: str
    event: Event


@dataclasses.dataclass(frozen=True)
class Question:
    """One question line: id, sentence, what it asks, and the generator's answer and supporting ids."""

    line_id: int
    text: str
    query: Query
    answer: str
    supporting: tuple[int, ...]


StoryLine = Statement | Question
