"""The independent checker: recompute every answer and its supporting facts from the event log.

The story generators (:mod:`memnet.generate.stories`) decide answers from their own incremental
world state. This module shares none of that code: for each question it scans the structured
events stated before it (mostly backwards, "what was the latest fact about X?"), works out the
answer and the supporting line ids, and compares them with what the generator wrote. It also
checks that every sentence names the entities of its event in order and that every pronoun
refers to the sentence just before it, so a sentence that says something else than its event is
caught too.

:func:`check_story` is run on every generated story; a mismatch raises
:class:`GeneratedStoryError`, which means a bug in the generator.
"""

from __future__ import annotations

import collections
import re

from memnet.generate import events as ev
from memnet.generate.lexicon import (
    DIRECTION_LETTERS, MOTIVE_DESTINATION, MOTIVE_OBJECT, NUMBER_WORDS, OPPOSITE_RELATION, PRONOUN_OF_ACTOR,
    RELATION_PHRASES, SPECIES_PLURALS, TIMES_OF_DAY,
)


class GeneratedStoryError(AssertionError):
    """A generated story disagrees with its own events: a bug in the generator."""


class Unanswerable(GeneratedStoryError):
    """The events before a question do not determine its answer."""


def check_story(lines: list[ev.StoryLine]) -> None:
    """Check every line of one generated story (ids, sentences, answers, supporting facts).

    Raises:
        GeneratedStoryError: naming the first line that is wrong.
    """
    statements: list[ev.Statement] = []
    for expected_id, line in enumerate(lines, start=1):
        if line.line_id != expected_id:
            raise GeneratedStoryError(f"line id {line.line_id} where {expected_id} was expected")
        if isinstance(line, ev.Statement):
            check_sentence(line.text, line.event, statements)
            statements.append(line)
        else:
            check_example(statements, line)


def check_example(statements: list[ev.Statement], question: ev.Question) -> None:
    """Check one question against the statements of its story that come before it.

    Args:
        statements: the story's statement lines before the question, in order.
        question: the question line with the generator's answer and supporting ids.

    Raises:
        GeneratedStoryError: the answer or the supporting ids differ from the recomputed ones.
    """
    check_sentence(question.text, question.query, statements)
    answer, supporting = answer_from_events(statements, question.query)
    if (answer, tuple(supporting)) != (question.answer, tuple(question.supporting)):
        raise GeneratedStoryError(
            f"line {question.line_id} {question.text!r}: generator says {question.answer!r} "
            f"(supporting {list(question.supporting)}), the event log says {answer!r} (supporting {list(supporting)})"
        )


# --- Sentences agree with their events -----------------------------------------------------------


def _phrases_in_order(item) -> list[str]:
    """The words a sentence for this event or query must contain, in this order."""
    match item:
        case ev.Move(actors=actors, place=place, pronoun=True):
            pronoun = "they" if len(actors) > 1 else PRONOUN_OF_ACTOR[actors[0]]
            return [pronoun, place]
        case ev.Move(actors=actors, place=place):
            return [*actors, place]
        case ev.SpeciesFears(species=species, feared=feared):
            return [SPECIES_PLURALS[species], SPECIES_PLURALS[feared]]
        case ev.Relation(subject=subject, relation=relation, obj=obj):
            return [subject, RELATION_PHRASES[relation], obj]
        case ev.IsRelated(subject=subject, relation=relation, obj=obj):
            return [subject, "fit in" if relation == "fits" else RELATION_PHRASES[relation], obj]
        case ev.WhatIsInDirection(relation=relation, subject=subject, obj=obj):
            return [p for p in (subject, RELATION_PHRASES[relation], obj) if p is not None]
        case ev.AboutGift(giver=giver, obj=obj, receiver=receiver):
            return [p for p in (giver, obj, receiver) if p is not None]
    # Every other event and query lists its words in sentence order in its fields.
    words = []
    for value in vars(item).values():
        if isinstance(value, tuple):
            words += list(value)
        elif isinstance(value, str):
            words.append(value)
    return words


def check_sentence(text: str, item, statements_before: list[ev.Statement]) -> None:
    """Check that ``text`` names what ``item`` (an event or a query) is about, in order."""
    lowered, position = text.lower(), 0
    for phrase in _phrases_in_order(item):
        match = re.search(rf"\b{re.escape(phrase.lower())}\b", lowered[position:])
        if match is None:
            raise GeneratedStoryError(f"sentence {text!r} does not say {phrase!r} where its meaning {item!r} needs it")
        position += match.end()
    if isinstance(item, ev.Move) and item.time is not None and item.time not in lowered:
        raise GeneratedStoryError(f"sentence {text!r} does not say when ({item.time!r})")
    if isinstance(item, ev.Move) and item.pronoun:
        before = statements_before[-1].event if statements_before else None
        if not isinstance(before, ev.Move) or before.pronoun or set(before.actors) != set(item.actors):
            raise GeneratedStoryError(f"pronoun in {text!r} does not refer to the actors of the sentence before")


# --- Answers from the event log ------------------------------------------------------------------


def answer_from_events(statements: list[ev.Statement], query: ev.Query) -> tuple[str, tuple[int, ...]]:
    """The answer to ``query`` and its supporting line ids, worked out from ``statements`` alone.

    Raises:
        Unanswerable: the statements do not determine the answer.
    """
    handler = _HANDLERS.get(type(query))
    if handler is None:
        raise TypeError(f"the checker cannot answer {query!r}")
    return handler(statements, query)


def _latest(statements, matches, before: int | None = None):
    """The latest statement whose event satisfies ``matches`` (and whose line is below ``before``)."""
    for statement in reversed(statements):
        if (before is None or statement.line_id < before) and matches(statement.event):
            return statement
    return None


def _about_place_of(actor: str):
    def matches(event) -> bool:
        if isinstance(event, ev.Move):
            return actor in event.actors
        return isinstance(event, (ev.IsIn, ev.NotIn, ev.EitherIn)) and event.actor == actor
    return matches


def _support_of(statements, statement: ev.Statement) -> tuple[int, ...]:
    """A statement's line, preceded by its antecedent's line when it speaks by pronoun."""
    if isinstance(statement.event, ev.Move) and statement.event.pronoun:
        return (statement.line_id - 1, statement.line_id)
    return (statement.line_id,)


def _where_is_actor(statements, query: ev.WhereIsActor):
    fact = _latest(statements, _about_place_of(query.actor))
    if fact is None or not isinstance(fact.event, (ev.Move, ev.IsIn)):
        raise Unanswerable(f"no known place for {query.actor}")
    return fact.event.place, _support_of(statements, fact)


def _is_actor_in(statements, query: ev.IsActorIn):
    fact = _latest(statements, _about_place_of(query.actor))
    if fact is None:
        raise Unanswerable(f"nothing said about where {query.actor} is")
    event = fact.event
    if isinstance(event, (ev.Move, ev.IsIn)):
        answer = "yes" if event.place == query.place else "no"
    elif isinstance(event, ev.NotIn):
        if event.place != query.place:
            raise Unanswerable(f"{query.actor} is only known not to be in the {event.place}")
        answer = "no"
    else:
        answer = "maybe" if query.place in event.places else "no"
    return answer, _support_of(statements, fact)


def _object_events(obj: str):
    return lambda event: isinstance(event, (ev.Take, ev.Drop, ev.Give)) and event.obj == obj


def _holder_after(event) -> str | None:
    """Who holds the object after a take, drop or give event (None: it lies on the floor)."""
    if isinstance(event, ev.Take):
        return event.actor
    if isinstance(event, ev.Give):
        return event.receiver
    return None


def _where_is_object(statements, query: ev.WhereIsObject):
    last = _latest(statements, _object_events(query.obj))
    if last is None:
        raise Unanswerable(f"the {query.obj} was never handled")
    holder = _holder_after(last.event)
    if holder is not None:  # carried: it is wherever its holder was last seen
        located = _latest(statements, _about_place_of(holder))
    else:  # dropped: it is where the dropper was when dropping it
        located = _latest(statements, _about_place_of(last.event.actor), before=last.line_id)
    if located is None or not isinstance(located.event, (ev.Move, ev.IsIn)):
        raise Unanswerable(f"where the {query.obj} is cannot be told")
    return located.event.place, (last.line_id, located.line_id)


def _where_was_object_before(statements, query: ev.WhereWasObjectBefore):
    last = _latest(statements, _object_events(query.obj))
    taken = _latest(statements, lambda e: isinstance(e, ev.Take) and e.obj == query.obj)
    if last is None or taken is None or isinstance(last.event, ev.Give):
        raise Unanswerable(f"the {query.obj} was not carried around")
    carrier = taken.event.actor
    if last is not taken and not (isinstance(last.event, ev.Drop) and last.event.actor == carrier):
        raise Unanswerable(f"the {query.obj} changed hands after it was taken")
    moves = [s for s in statements
             if taken.line_id < s.line_id < (last.line_id if last is not taken else 10**9)
             and isinstance(s.event, ev.Move) and carrier in s.event.actors]
    if len(moves) < 2 or moves[-1].event.place != query.place:
        raise Unanswerable(f"the {query.obj} was not carried into the {query.place} from elsewhere")
    return moves[-2].event.place, (last.line_id, moves[-1].line_id, moves[-2].line_id)


def _what_is_in_direction(statements, query: ev.WhatIsInDirection):
    found = []  # (answer, line)
    for s in statements:
        event = s.event
        if not isinstance(event, ev.Relation):
            continue
        # A fact "a R b" also says "b opposite(R) a".
        for subject, relation, obj in ((event.subject, event.relation, event.obj),
                                       (event.obj, OPPOSITE_RELATION[event.relation], event.subject)):
            if relation != query.relation:
                continue
            if query.subject is None and obj == query.obj:
                found.append((subject, s.line_id))
            if query.obj is None and subject == query.subject:
                found.append((obj, s.line_id))
    if len({answer for answer, _ in found}) != 1:
        raise Unanswerable(f"{len(found)} places fit {query!r}")
    answer = found[0][0]
    return answer, tuple(sorted({line for a, line in found if a == answer}))


def _about_gift(statements, query: ev.AboutGift):
    def matches(event) -> bool:
        return isinstance(event, ev.Give) and all(
            wanted is None or wanted == getattr(event, field)
            for field, wanted in (("giver", query.giver), ("obj", query.obj), ("receiver", query.receiver)))

    gift = _latest(statements, matches)
    if gift is None:
        raise Unanswerable(f"no gift matches {query!r}")
    return getattr(gift.event, query.missing), (gift.line_id,)


def _carried_by(statements, actor: str) -> tuple[list[str], tuple[int, ...]]:
    """Replay every take, drop and gift: what ``actor`` holds now, and the lines that involved them."""
    held, lines = [], []
    for s in statements:
        event = s.event
        if isinstance(event, ev.Take) and event.actor == actor:
            held.append(event.obj)
        elif isinstance(event, ev.Drop) and event.actor == actor:
            held.remove(event.obj)
        elif isinstance(event, ev.Give) and actor in (event.giver, event.receiver):
            if event.giver == actor:
                held.remove(event.obj)
            else:
                held.append(event.obj)
        else:
            continue
        lines.append(s.line_id)
    if not lines:
        raise Unanswerable(f"{actor} never handled anything")
    return held, tuple(lines)


def _how_many_carried(statements, query: ev.HowManyCarried):
    held, lines = _carried_by(statements, query.actor)
    return NUMBER_WORDS[len(held)], lines


def _what_carried(statements, query: ev.WhatCarried):
    held, lines = _carried_by(statements, query.actor)
    return (",".join(held) if held else "nothing"), lines


def _where_was_actor_before(statements, query: ev.WhereWasActorBefore):
    at_time = {}  # time of day -> statement
    for s in statements:
        if isinstance(s.event, ev.Move) and query.actor in s.event.actors and s.event.time is not None:
            at_time[s.event.time] = s
    times_there = [t for t in TIMES_OF_DAY if t in at_time and at_time[t].event.place == query.place]
    if not times_there:
        raise Unanswerable(f"{query.actor} was never said to be in the {query.place}")
    latest = times_there[-1]
    index = TIMES_OF_DAY.index(latest)
    if index == 0 or TIMES_OF_DAY[index - 1] not in at_time:
        raise Unanswerable(f"where {query.actor} was before {latest} is not said")
    before = at_time[TIMES_OF_DAY[index - 1]]
    return before.event.place, (at_time[latest].line_id, before.line_id)


def _what_afraid_of(statements, query: ev.WhatAfraidOf):
    kind = _latest(statements, lambda e: isinstance(e, ev.IsA) and e.name == query.name)
    if kind is None:
        raise Unanswerable(f"the species of {query.name} is not said")
    fear = _latest(statements, lambda e: isinstance(e, ev.SpeciesFears) and e.species == kind.event.species)
    if fear is None:
        raise Unanswerable(f"what {kind.event.species} fear is not said")
    return fear.event.feared, (kind.line_id, fear.line_id)


def _what_color(statements, query: ev.WhatColor):
    kind = _latest(statements, lambda e: isinstance(e, ev.IsA) and e.name == query.name)
    if kind is None:
        raise Unanswerable(f"the species of {query.name} is not said")
    examples = []  # (is-a statement, colour statement) of other animals of that species
    for s in statements:
        if isinstance(s.event, ev.IsA) and s.event.species == kind.event.species and s.event.name != query.name:
            color = _latest(statements, lambda e, name=s.event.name: isinstance(e, ev.HasColor) and e.name == name)
            if color is not None:
                examples.append((s, color))
    if not examples:
        raise Unanswerable(f"no other {kind.event.species} has a colour")
    # As in the real files, the latest-introduced example decides when examples disagree.
    example_kind, example_color = examples[-1]
    return example_color.event.color, (kind.line_id, example_kind.line_id, example_color.line_id)


_GRID_STEPS = {"above": (0, 1), "below": (0, -1), "left": (-1, 0), "right": (1, 0)}


def _relation_path(statements, start: str, goal: str, relations: set[str]):
    """Shortest chain of relation facts linking ``start`` to ``goal`` (breadth-first, earliest lines first).

    Returns a list of (statement, from_thing, to_thing) steps, or None when unlinked.
    """
    neighbours = collections.defaultdict(list)
    for s in statements:
        if isinstance(s.event, ev.Relation) and s.event.relation in relations:
            neighbours[s.event.subject].append((s, s.event.obj))
            neighbours[s.event.obj].append((s, s.event.subject))
    came_from = {start: None}
    queue = collections.deque([start])
    while queue:
        thing = queue.popleft()
        for s, other in neighbours[thing]:
            if other not in came_from:
                came_from[other] = (s, thing)
                queue.append(other)
    if goal not in came_from:
        return None
    path, thing = [], goal
    while came_from[thing] is not None:
        s, previous = came_from[thing]
        path.append((s, previous, thing))
        thing = previous
    return path[::-1]


def _is_related_position(statements, query: ev.IsRelated):
    path = _relation_path(statements, query.subject, query.obj, set(_GRID_STEPS))
    if path is None:
        raise Unanswerable(f"the {query.subject} and the {query.obj} are not linked")
    # Walk from the subject to the object, adding up grid steps.
    dx = dy = 0
    for s, here, there in path:
        relation = s.event.relation if s.event.subject == there else OPPOSITE_RELATION[s.event.relation]
        step = _GRID_STEPS[relation]  # `there` is `relation` of `here`
        dx, dy = dx + step[0], dy + step[1]
    # (dx, dy) is where the object lies seen from the subject.
    holds = {"above": dy < 0, "below": dy > 0, "left": dx > 0, "right": dx < 0}[query.relation]
    return ("yes" if holds else "no"), tuple(s.line_id for s, _, _ in path)


def _is_related_size(statements, query: ev.IsRelated):
    first_line = {}  # (smaller, bigger) -> earliest line comparing them
    for s in statements:
        if isinstance(s.event, ev.Relation) and s.event.relation in ("bigger", "fits"):
            pair = (s.event.subject, s.event.obj) if s.event.relation == "fits" else (s.event.obj, s.event.subject)
            first_line.setdefault(pair, s.line_id)
    maybe_bigger = query.subject if query.relation == "bigger" else query.obj
    other = query.obj if maybe_bigger == query.subject else query.subject
    things = {thing for pair in first_line for thing in pair}
    chains = []  # (answer, line from the maybe-bigger side, line from the other side)
    for mid in things:
        if (other, mid) in first_line and (mid, maybe_bigger) in first_line:
            chains.append(("yes", first_line[(mid, maybe_bigger)], first_line[(other, mid)]))
        if (maybe_bigger, mid) in first_line and (mid, other) in first_line:
            chains.append(("no", first_line[(maybe_bigger, mid)], first_line[(mid, other)]))
    if not chains:
        raise Unanswerable(f"no two comparisons link the {query.subject} and the {query.obj}")
    if len({answer for answer, _, _ in chains}) != 1:
        raise GeneratedStoryError(f"the size comparisons contradict each other about {query!r}")
    answer, near, far = min(chains, key=lambda chain: (max(chain[1:]), min(chain[1:])))
    return answer, (near, far)


def _is_related(statements, query: ev.IsRelated):
    if query.relation in _GRID_STEPS:
        return _is_related_position(statements, query)
    return _is_related_size(statements, query)


def _how_to_go(statements, query: ev.HowToGo):
    path = _relation_path(statements, query.start, query.goal, set(DIRECTION_LETTERS))
    if path is None:
        raise Unanswerable(f"no route from the {query.start} to the {query.goal}")
    letters = []
    for s, here, there in path:
        # "there is R of here" means walking R from here.
        direction = s.event.relation if s.event.subject == there else OPPOSITE_RELATION[s.event.relation]
        letters.append(DIRECTION_LETTERS[direction])
    return ",".join(letters), tuple(s.line_id for s, _, _ in path)


def _latest_feeling(statements, actor: str) -> ev.Statement:
    feeling = _latest(statements, lambda e: isinstance(e, ev.Feels) and e.actor == actor)
    if feeling is None:
        raise Unanswerable(f"how {actor} feels is not said")
    return feeling


def _where_will_go(statements, query: ev.WhereWillGo):
    feeling = _latest_feeling(statements, query.actor)
    return MOTIVE_DESTINATION[feeling.event.motive], (feeling.line_id,)


def _why_went(statements, query: ev.WhyWent):
    feeling = _latest_feeling(statements, query.actor)
    if MOTIVE_DESTINATION[feeling.event.motive] != query.place:
        raise Unanswerable(f"being {feeling.event.motive} does not explain going to the {query.place}")
    return feeling.event.motive, (feeling.line_id,)


def _why_got(statements, query: ev.WhyGot):
    feeling = _latest_feeling(statements, query.actor)
    if MOTIVE_OBJECT[feeling.event.motive] != query.obj:
        raise Unanswerable(f"being {feeling.event.motive} does not explain taking the {query.obj}")
    return feeling.event.motive, (feeling.line_id,)


_HANDLERS = {
    ev.WhereIsActor: _where_is_actor,
    ev.WhereIsObject: _where_is_object,
    ev.WhereWasObjectBefore: _where_was_object_before,
    ev.WhatIsInDirection: _what_is_in_direction,
    ev.AboutGift: _about_gift,
    ev.IsActorIn: _is_actor_in,
    ev.HowManyCarried: _how_many_carried,
    ev.WhatCarried: _what_carried,
    ev.WhereWasActorBefore: _where_was_actor_before,
    ev.WhatAfraidOf: _what_afraid_of,
    ev.WhatColor: _what_color,
    ev.IsRelated: _is_related,
    ev.HowToGo: _how_to_go,
    ev.WhereWillGo: _where_will_go,
    ev.WhyWent: _why_went,
    ev.WhyGot: _why_got,
}
