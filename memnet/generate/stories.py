"""One story generator per bAbI task: each makes a story of structured statements and questions.

Every generator has the signature ``(rng, params, writer) -> list[StoryLine]`` where ``params``
is the task's ``[task.generator]`` table from ``tasks/catalogue.toml`` and ``writer`` turns events
and queries into sentences. The generator computes each answer and its supporting line ids from
its own model of the world; :mod:`memnet.generate.checker` later recomputes them independently.

Tasks 1-3 and 5-13 run the household simulation of :mod:`memnet.generate.world`; the others
build a small hidden world (a timeline, a map, sizes, a grid) and state facts about it.
"""

from __future__ import annotations

import random
from typing import Callable

from memnet.errors import MemnetError
from memnet.generate import events as ev
from memnet.generate.lexicon import (
    DIRECTION_LETTERS, MOTIVE_DESTINATION, MOTIVE_OBJECT, NUMBER_WORDS, OPPOSITE_RELATION, TIMES_OF_DAY,
    SentenceWriter,
)
from memnet.generate.world import HouseholdWorld, weighted_choice


class StoryTooLongError(RuntimeError):
    """A story ran past its ``max_statements`` without enough answerable questions (it is redrawn)."""


class StoryBuilder:
    """Collects the lines of one story, numbering them from 1 and writing their sentences."""

    def __init__(self, writer: SentenceWriter):
        self.writer = writer
        self.lines: list[ev.StoryLine] = []
        self.question_count = 0
        self.statement_count = 0

    def say(self, event: ev.Event) -> int:
        """Add a statement; return its line id."""
        line_id = len(self.lines) + 1
        self.lines.append(ev.Statement(line_id, self.writer.statement(event), event))
        self.statement_count += 1
        return line_id

    def ask(self, query: ev.Query, answer: str, supporting: tuple[int, ...]) -> None:
        """Add a question with the generator's answer and supporting line ids."""
        line_id = len(self.lines) + 1
        self.lines.append(ev.Question(line_id, self.writer.question(query), query, answer, tuple(supporting)))
        self.question_count += 1


# A question the story can answer: (query, answer, supporting line ids).
Candidate = tuple[ev.Query, str, tuple[int, ...]]


def _household_story(rng: random.Random, params: dict, writer: SentenceWriter,
                     ask: Callable[[HouseholdWorld, random.Random], list[Candidate]],
                     next_events: Callable[[HouseholdWorld], list[ev.Event]] | None = None) -> list[ev.StoryLine]:
    """The loop shared by the household tasks: a few statements, then a question if one is answerable.

    Like the real bAbI stories, a question is only asked about something recent: its newest
    supporting fact is at most ``max_support_age`` lines before it (else more statements come first).
    With ``ask_probability`` < 1 an answerable question is asked only with that probability, so
    that the number of statements between questions follows the real files (tasks 2 and 3).

    Args:
        ask: the questions answerable about the current world (one per actor or object).
        next_events: yields the statements to add before the next question (each is applied
            before the next is drawn); by default ``statements_per_question`` random actions
            drawn with the task's ``action_weights``.
    """
    world = HouseholdWorld(rng, params["actors"], params["places"], params.get("objects", ()),
                           deny_known_place=params.get("deny_known_place", 0.0),
                           busy_take_odds=params.get("busy_take_odds", 1.0))
    story = StoryBuilder(writer)
    ask_probability = params.get("ask_probability", 1.0)
    if next_events is None:
        def next_events(world):
            # A generator: each action is drawn after the one before it has been applied.
            for _ in range(params["statements_per_question"]):
                yield world.random_action(params["action_weights"])
    while story.question_count < params["questions_per_story"]:
        for event in next_events(world):
            world.apply(event, story.say(event))
        question_line = len(story.lines) + 1
        recent = [c for c in ask(world, rng) if question_line - max(c[2]) <= params["max_support_age"]]
        if recent and (ask_probability >= 1.0 or rng.random() < ask_probability):
            story.ask(*rng.choice(recent))
        if story.statement_count > params["max_statements"]:
            raise StoryTooLongError
    return story.lines


# --- Questions about the household ---------------------------------------------------------------


def _where_is_actor(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
    return [(ev.WhereIsActor(actor), world.knowledge[actor][1], world.knowledge_lines[actor])
            for actor in world.located_actors()]


def _is_actor_in(yes_probability: float, maybe_probability: float = 0.0):
    """Yes/no(/maybe) questions about an actor's place, answering from what the story last said."""

    def ask(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
        return [about(world, rng, actor) for actor in world.actors if world.knowledge[actor] is not None]

    def about(world: HouseholdWorld, rng: random.Random, actor: str) -> Candidate:
        kind, value = world.knowledge[actor]
        lines = world.knowledge_lines[actor]
        if kind == "at":
            if rng.random() < yes_probability:
                return ev.IsActorIn(actor, value), "yes", lines
            return ev.IsActorIn(actor, world.other_place(value)), "no", lines
        if kind == "not":  # only the place it denies has a known answer
            return ev.IsActorIn(actor, value), "no", lines
        if rng.random() < maybe_probability:  # "either": one of the two is possible, the others are not
            return ev.IsActorIn(actor, rng.choice(value)), "maybe", lines
        return ev.IsActorIn(actor, world.other_place(*value)), "no", lines

    return ask


def _where_is_object(prefer_dropped: float):
    """Questions about where an object is, as in the real task 2.

    A carried object is asked about once its carrier has moved with it (supporting facts: the
    taking, then the move), never when its place is only known from a move before the taking; a
    dropped one, from the move before the drop. When both kinds can be asked, a dropped object is
    chosen with probability ``prefer_dropped``.
    """

    def ask(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
        located = {obj: world.object_location(obj) for obj in world.objects}
        carried, dropped = [], []
        for obj, found in located.items():
            if found is None:
                continue
            if world.holder[obj] is None:
                dropped.append((ev.WhereIsObject(obj), found[0], found[1]))
            elif found[1][1] > found[1][0]:
                carried.append((ev.WhereIsObject(obj), found[0], found[1]))
        if carried and dropped:
            return dropped if rng.random() < prefer_dropped else carried
        return carried + dropped

    return ask


def _where_was_object_before(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
    # Askable once the object's carrier has moved twice with it since picking it up.
    candidates = []
    for obj in world.objects:
        if len(world.moves_while_carried[obj]) >= 2:
            (earlier_line, earlier_place), (last_line, last_place) = world.moves_while_carried[obj][-2:]
            candidates.append((ev.WhereWasObjectBefore(obj, last_place), earlier_place,
                               (world.object_line[obj], last_line, earlier_line)))
    return candidates


def _about_latest_gift(question_weights: dict[str, float]):
    def ask(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
        if world.latest_gift is None:
            return []
        line, gift = world.latest_gift
        form = weighted_choice(rng, question_weights)
        queries = {
            "what_given": (ev.AboutGift("obj", giver=gift.giver, receiver=gift.receiver), gift.obj),
            "who_gave": (ev.AboutGift("giver", obj=gift.obj), gift.giver),
            "who_gave_to": (ev.AboutGift("giver", obj=gift.obj, receiver=gift.receiver), gift.giver),
            "who_received": (ev.AboutGift("receiver", obj=gift.obj), gift.receiver),
            "who_given_to": (ev.AboutGift("receiver", giver=gift.giver, obj=gift.obj), gift.receiver),
        }
        query, answer = queries[form]
        return [(query, answer, (line,))]

    return ask


def _carried(count: bool, latest_handler_probability: float = 0.0, giver_probability: float = 0.5):
    """Questions about what (or how many things) an actor carries.

    With ``latest_handler_probability`` the question is about whoever took, dropped or gave
    something last (after a gift, the giver with ``giver_probability``), as most real task 7
    questions are; otherwise about another actor who has handled an object (or, if there is none,
    the latest handler after all).
    """

    def ask(world: HouseholdWorld, rng: random.Random) -> list[Candidate]:
        handlers = [actor for actor in world.actors if world.handling_lines[actor]]
        if latest_handler_probability <= 0 or not world.latest_handlers:
            return [about(world, actor) for actor in handlers]
        latest = world.latest_handlers
        others = [actor for actor in handlers if actor not in latest]
        if others and rng.random() >= latest_handler_probability:
            return [about(world, actor) for actor in others]
        actor = latest[0] if len(latest) == 1 or rng.random() < giver_probability else latest[1]
        return [about(world, actor)]

    def about(world: HouseholdWorld, actor: str) -> Candidate:
        carrying, lines = world.carrying[actor], tuple(world.handling_lines[actor])
        if count:
            return ev.HowManyCarried(actor), NUMBER_WORDS[len(carrying)], lines
        return ev.WhatCarried(actor), ",".join(carrying) if carrying else "nothing", lines

    return ask


# --- Tasks 1-3 and 5-13 ----------------------------------------------------------------------------


def story_single_supporting_fact(rng, params, writer):
    return _household_story(rng, params, writer, _where_is_actor)


def story_two_supporting_facts(rng, params, writer):
    return _household_story(rng, params, writer, _where_is_object(params.get("prefer_dropped", 0.5)))


def story_three_supporting_facts(rng, params, writer):
    return _household_story(rng, params, writer, _where_was_object_before)


def story_three_arg_relations(rng, params, writer):
    return _household_story(rng, params, writer, _about_latest_gift(params["question_weights"]))


def story_yes_no_questions(rng, params, writer):
    return _household_story(rng, params, writer, _is_actor_in(params["yes_probability"]))


def story_counting(rng, params, writer):
    return _household_story(rng, params, writer, _carried(
        count=True, latest_handler_probability=params.get("latest_handler_probability", 0.0),
        giver_probability=params.get("giver_probability", 0.5)))


def story_lists_sets(rng, params, writer):
    return _household_story(rng, params, writer, _carried(count=False))


def story_simple_negation(rng, params, writer):
    return _household_story(rng, params, writer, _is_actor_in(params["yes_probability"]))


def story_indefinite_knowledge(rng, params, writer):
    return _household_story(
        rng, params, writer, _is_actor_in(params["yes_probability"], params["maybe_probability"]))


def story_basic_coreference(rng, params, writer):
    """Pairs: "Mary went to the office. Then she went to the garden." then a question."""

    def pair(world: HouseholdWorld):
        actor = world.rng.choice(world.actors)
        first = world.other_place(world.true_place[actor])
        return [ev.Move((actor,), first), ev.Move((actor,), world.other_place(first), pronoun=True)]

    return _household_story(rng, params, writer, _where_is_actor, pair)


def _two_actors_move(world: HouseholdWorld) -> ev.Move:
    actors = tuple(world.rng.sample(world.actors, 2))
    return ev.Move(actors, world.other_place(*(world.true_place[actor] for actor in actors)))


def story_conjunction(rng, params, writer):
    """"Mary and Daniel went to the kitchen." twice, then a question."""
    def moves(world: HouseholdWorld):
        for _ in range(params["statements_per_question"]):
            yield _two_actors_move(world)

    return _household_story(rng, params, writer, _where_is_actor, moves)


def story_compound_coreference(rng, params, writer):
    """Pairs: "Mary and Daniel went to the kitchen. Then they went to the hallway." then a question."""

    def pair(world: HouseholdWorld):
        first = _two_actors_move(world)
        return [first, ev.Move(first.actors, world.other_place(first.place), pronoun=True)]

    return _household_story(rng, params, writer, _where_is_actor, pair)


# --- Task 4: two-argument relations -------------------------------------------------------------


def story_two_arg_relations(rng, params, writer):
    """Three places in a row on one axis; two sentences relate neighbours; ask about one of them."""
    first_direction = rng.choice(("north", "west"))  # the direction from row[0] to row[1] to row[2]
    row = rng.sample(params["places"], 3)
    story = StoryBuilder(writer)
    facts = []
    # Each fact names the outer place first with probability outer_subject (measured from the
    # real files: 64.5%, so that both facts share the middle place as object in 42% of stories).
    outer_first = [rng.random() < params.get("outer_subject", 0.5) for _ in range(2)]
    for (outer, middle), first in zip(((row[0], row[1]), (row[2], row[1])), outer_first):
        direction = first_direction if outer == row[0] else OPPOSITE_RELATION[first_direction]
        if first:
            facts.append(ev.Relation(outer, direction, middle))
        else:
            facts.append(ev.Relation(middle, OPPOSITE_RELATION[direction], outer))
    rng.shuffle(facts)
    lines = [story.say(fact) for fact in facts]
    asked = rng.randrange(2)
    fact = facts[asked]
    # The answer is always the fact's subject, as in the real files: "A is north of B" is asked as
    # "What is north of B?" (the stated direction) or "What is B south of?" (the opposite one).
    if rng.random() < 0.5:
        story.ask(ev.WhatIsInDirection(fact.relation, obj=fact.obj), fact.subject, (lines[asked],))
    else:
        story.ask(ev.WhatIsInDirection(OPPOSITE_RELATION[fact.relation], subject=fact.obj), fact.subject, (lines[asked],))
    return story.lines


# --- Task 14: time reasoning ----------------------------------------------------------------------


def story_time_reasoning(rng, params, writer):
    """Each actor visits a place in each part of the day; sentences come roughly in time order."""
    actors, places = params["actors"], params["places"]
    plans = {}
    for actor in actors:
        visits = [rng.choice(places)]
        for _ in TIMES_OF_DAY[1:]:
            visits.append(rng.choice([place for place in places if place != visits[-1]]))
        # Yesterday and this morning may be told in either order; the rest in order.
        order = [0, 1] if rng.random() < 0.5 else [1, 0]
        plans[actor] = [(TIMES_OF_DAY[t], visits[t]) for t in order + [2, 3]]
    told = {actor: {} for actor in actors}  # time -> (place, line id)
    story = StoryBuilder(writer)
    while story.question_count < params["questions_per_story"]:
        for _ in range(params["statements_per_question"]):
            waiting = [actor for actor in actors if len(told[actor]) < len(TIMES_OF_DAY)]
            if not waiting:
                break
            actor = rng.choice(waiting)
            time, place = plans[actor][len(told[actor])]
            told[actor][time] = (place, story.say(ev.Move((actor,), place, time=time)))
        candidates = []
        for actor in actors:
            for previous, time in zip(TIMES_OF_DAY, TIMES_OF_DAY[1:]):
                if previous in told[actor] and time in told[actor]:
                    place, line = told[actor][time]
                    # "before the school" means before the latest time they were at the school.
                    later = TIMES_OF_DAY[TIMES_OF_DAY.index(time) + 1:]
                    if not any(told[actor].get(t, (None,))[0] == place for t in later):
                        earlier_place, earlier_line = told[actor][previous]
                        candidates.append((ev.WhereWasActorBefore(actor, place), earlier_place, (line, earlier_line)))
        if candidates:
            story.ask(*rng.choice(candidates))
    return story.lines


# --- Task 15: basic deduction ---------------------------------------------------------------------


def story_basic_deduction(rng, params, writer):
    """Each species fears another; each name is of a species; ask what a name fears."""
    species = params["species"]
    fears = {kind: rng.choice([other for other in species if other != kind]) for kind in species}
    kind_of = {name: rng.choice(species) for name in params["names"]}
    facts = [ev.SpeciesFears(kind, fears[kind]) for kind in species] + [ev.IsA(n, k) for n, k in kind_of.items()]
    rng.shuffle(facts)
    story = StoryBuilder(writer)
    line_of = {fact: story.say(fact) for fact in facts}
    for _ in range(params["questions_per_story"]):
        name = rng.choice(params["names"])
        kind = kind_of[name]
        story.ask(ev.WhatAfraidOf(name), fears[kind],
                  (line_of[ev.IsA(name, kind)], line_of[ev.SpeciesFears(kind, fears[kind])]))
    return story.lines


# --- Task 16: basic induction ---------------------------------------------------------------------


def story_basic_induction(rng, params, writer):
    """Animals of a species share a colour; from examples, induce the colour of a new animal.

    Shaped like the real files (measured on the en training set): the asked animal shares its
    species with 1, 3 or 4 of the four examples (``shared_species_weights``); when several share it
    they disagree on its colour with ``disagree_probability``, and the answer is the colour of the
    latest-introduced one; the asked animal's "is a" is the statement ``asked_line_weights`` lines
    from the end (the last one in a third of the real stories).
    """
    names = rng.sample(params["names"], len(params["names"]))
    asked, examples = names[0], names[1:]
    asked_kind = rng.choice(params["species"])
    shared = int(weighted_choice(rng, params["shared_species_weights"]))
    other_kinds = [kind for kind in params["species"] if kind != asked_kind]
    kind_of = {name: asked_kind if i < shared else rng.choice(other_kinds) for i, name in enumerate(examples)}
    color_of_species = {kind: rng.choice(params["colors"]) for kind in params["species"]}
    color_of = {name: color_of_species[kind_of[name]] for name in examples}
    if shared > 1 and rng.random() < params["disagree_probability"]:
        while len({color_of[name] for name in examples[:shared]}) == 1:
            for name in examples[:shared]:
                color_of[name] = rng.choice(params["colors"])
    # Each example's species comes before its colour; otherwise the order is random.
    pending = {name: [ev.IsA(name, kind_of[name]), ev.HasColor(name, color_of[name])] for name in examples}
    facts = []
    while pending:
        name = rng.choice(sorted(pending))
        facts.append(pending[name].pop(0))
        if not pending[name]:
            del pending[name]
    from_end = int(weighted_choice(rng, params["asked_line_weights"]))
    if not 1 <= from_end <= len(facts) + 1:
        raise MemnetError(f"tasks/catalogue.toml: task 16's asked_line_weights has {from_end}, "
                          f"but its stories have only {len(facts) + 1} statements")
    facts.insert(len(facts) + 1 - from_end, ev.IsA(asked, asked_kind))
    story = StoryBuilder(writer)
    isa_line, color_line = {}, {}
    for fact in facts:
        (isa_line if isinstance(fact, ev.IsA) else color_line)[fact.name] = story.say(fact)
    example = max((name for name in examples if kind_of[name] == asked_kind), key=isa_line.get)
    story.ask(ev.WhatColor(asked), color_of[example], (isa_line[asked], isa_line[example], color_line[example]))
    return story.lines


# --- Task 17: positional reasoning ----------------------------------------------------------------

# Unit steps on a grid: x grows to the right, y grows upwards.
_POSITION_STEPS = {"above": (0, 1), "below": (0, -1), "left": (-1, 0), "right": (1, 0)}


def _position_holds(relation: str, subject: tuple[int, int], obj: tuple[int, int]) -> bool:
    dx, dy = subject[0] - obj[0], subject[1] - obj[1]
    return {"above": dy > 0, "below": dy < 0, "left": dx < 0, "right": dx > 0}[relation]


def story_positional_reasoning(rng, params, writer):
    """Two shapes each placed next to a third; yes/no questions about the two outer shapes."""
    middle, first, second = rng.sample(params["shapes"], 3)
    first_step, second_step = rng.sample(list(_POSITION_STEPS), 2)  # different steps: distinct positions
    position = {middle: (0, 0), first: _POSITION_STEPS[first_step], second: _POSITION_STEPS[second_step]}
    facts = []
    for shape, step in ((first, first_step), (second, second_step)):
        facts.append(ev.Relation(shape, step, middle) if rng.random() < 0.5
                     else ev.Relation(middle, OPPOSITE_RELATION[step], shape))
    rng.shuffle(facts)
    story = StoryBuilder(writer)
    line_of = {}  # outer shape -> the line placing it next to the middle one
    for fact in facts:
        outer_shape = fact.subject if fact.obj == middle else fact.obj
        line_of[outer_shape] = story.say(fact)
    by_answer = {"yes": [], "no": []}
    for subject, obj in ((first, second), (second, first)):
        for relation in _POSITION_STEPS:
            answer = "yes" if _position_holds(relation, position[subject], position[obj]) else "no"
            by_answer[answer].append((ev.IsRelated(subject, relation, obj), answer, (line_of[subject], line_of[obj])))
    for _ in range(params["questions_per_story"]):
        story.ask(*rng.choice(by_answer["yes"] if rng.random() < 0.5 else by_answer["no"]))
    return story.lines


# --- Task 18: size reasoning ----------------------------------------------------------------------


def story_size_reasoning(rng, params, writer):
    """Size comparisons between things; yes/no questions that need two comparisons chained."""
    containers = rng.sample(params["containers"], len(params["containers"]))
    ranked = list(params["small_things"]) + containers  # smallest first
    size = {thing: rank for rank, thing in enumerate(ranked)}
    story = StoryBuilder(writer)
    first_line = {}  # (smaller, bigger) -> line of the first statement comparing them
    candidates = []
    while not candidates:
        if story.statement_count >= params["max_statements"]:
            raise StoryTooLongError
        for _ in range(params["statements_per_block"]):
            small, big = sorted(rng.sample(ranked, 2), key=size.get)
            fact = ev.Relation(small, "fits", big) if rng.random() < 0.5 else ev.Relation(big, "bigger", small)
            first_line.setdefault((small, big), story.say(fact))
        candidates = _size_questions(ranked, size, first_line)
    by_answer = {"yes": [c for c in candidates if c[1] == "yes"], "no": [c for c in candidates if c[1] == "no"]}
    for _ in range(params["questions_per_story"]):
        story.ask(*rng.choice(by_answer["yes"] if rng.random() < 0.5 else by_answer["no"]))
    return story.lines


def _size_questions(ranked, size, first_line) -> list[Candidate]:
    """Every question whose answer follows from two chained comparisons."""
    candidates = []
    for small in ranked:
        for big in ranked:
            if size[small] >= size[big]:
                continue
            chains = [(first_line[(small, mid)], first_line[(mid, big)]) for mid in ranked
                      if (small, mid) in first_line and (mid, big) in first_line]
            if not chains:
                continue
            # The chain completed earliest; its lines listed from the bigger end.
            small_line, big_line = min(chains, key=lambda pair: (max(pair), min(pair)))
            from_big, from_small = (big_line, small_line), (small_line, big_line)
            candidates += [
                (ev.IsRelated(big, "bigger", small), "yes", from_big),
                (ev.IsRelated(small, "bigger", big), "no", from_small),
                (ev.IsRelated(small, "fits", big), "yes", from_big),
                (ev.IsRelated(big, "fits", small), "no", from_small),
            ]
    return candidates


# --- Task 19: path finding ------------------------------------------------------------------------

_COMPASS_STEPS = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}


def story_path_finding(rng, params, writer):
    """Places laid out on a grid, each next to one placed before; ask a two-step route."""
    places = rng.sample(params["places"], len(params["places"]))
    cell = {places[0]: (0, 0)}
    edges = []  # (place, direction, neighbour): place is `direction` of neighbour
    for place in places[1:]:
        while True:
            neighbour = rng.choice(list(cell))
            direction = rng.choice(list(_COMPASS_STEPS))
            step = _COMPASS_STEPS[direction]
            target = (cell[neighbour][0] + step[0], cell[neighbour][1] + step[1])
            if target not in cell.values():
                break
        cell[place] = target
        edges.append((place, direction, neighbour))
    facts = [ev.Relation(a, d, b) if rng.random() < 0.5 else ev.Relation(b, OPPOSITE_RELATION[d], a)
             for a, d, b in edges]
    rng.shuffle(facts)
    story = StoryBuilder(writer)
    step_from = {}  # (from, to) -> (direction to walk, line)
    for fact in facts:
        line = story.say(fact)
        step_from[(fact.obj, fact.subject)] = (fact.relation, line)
        step_from[(fact.subject, fact.obj)] = (OPPOSITE_RELATION[fact.relation], line)
    routes = [(start, mid, goal) for (start, mid) in step_from for (mid2, goal) in step_from
              if mid2 == mid and goal != start]
    start, mid, goal = rng.choice(routes)
    (first_direction, first_line), (second_direction, second_line) = step_from[(start, mid)], step_from[(mid, goal)]
    answer = f"{DIRECTION_LETTERS[first_direction]},{DIRECTION_LETTERS[second_direction]}"
    story.ask(ev.HowToGo(start, goal), answer, (first_line, second_line))
    return story.lines


# --- Task 20: agent's motivations -----------------------------------------------------------------


def story_agents_motivations(rng, params, writer):
    """Each actor feels something, goes where that leads, maybe takes the thing it wants; each step is asked about."""
    episodes = {}
    for actor in params["actors"]:
        motive = rng.choice(params["motives"])
        steps = [ev.Feels(actor, motive), ev.Move((actor,), MOTIVE_DESTINATION[motive])]
        if rng.random() < params["take_probability"]:
            steps.append(ev.Take(actor, MOTIVE_OBJECT[motive]))
        episodes[actor] = steps
    story = StoryBuilder(writer)
    feeling_line = {}
    while episodes:
        actor = rng.choice(sorted(episodes))
        event = episodes[actor].pop(0)
        line = story.say(event)
        if not episodes[actor]:
            del episodes[actor]
        if isinstance(event, ev.Feels):
            feeling_line[actor] = (line, event.motive)
            story.ask(ev.WhereWillGo(actor), MOTIVE_DESTINATION[event.motive], (line,))
        elif isinstance(event, ev.Move):
            story.ask(ev.WhyWent(actor, event.place), feeling_line[actor][1], (feeling_line[actor][0],))
        else:
            story.ask(ev.WhyGot(actor, event.obj), feeling_line[actor][1], (feeling_line[actor][0],))
    return story.lines


# The story generator of each task number (the task names live only in the catalogue).
STORY_GENERATORS: dict[int, Callable[[random.Random, dict, SentenceWriter], list[ev.StoryLine]]] = {
    1: story_single_supporting_fact,
    2: story_two_supporting_facts,
    3: story_three_supporting_facts,
    4: story_two_arg_relations,
    5: story_three_arg_relations,
    6: story_yes_no_questions,
    7: story_counting,
    8: story_lists_sets,
    9: story_simple_negation,
    10: story_indefinite_knowledge,
    11: story_basic_coreference,
    12: story_conjunction,
    13: story_compound_coreference,
    14: story_time_reasoning,
    15: story_basic_deduction,
    16: story_basic_induction,
    17: story_positional_reasoning,
    18: story_size_reasoning,
    19: story_path_finding,
    20: story_agents_motivations,
}
