"""The words of the bAbI world and how its events and questions are written as English sentences.

The synonyms and sentence shapes follow the real bAbI v1.2 English data (measured with
``benchmarks/generator_fidelity.py``): five verbs of movement, four of taking, four of dropping,
three of giving, four ways to say "after that", and so on. Which actors, places and objects a task
uses is a generator parameter in ``tasks/catalogue.toml``.
"""

from __future__ import annotations

import random

from memnet.generate import events as ev

MOVE_VERBS = ("went", "went back", "journeyed", "travelled", "moved")
TAKE_VERBS = ("got", "took", "grabbed", "picked up")
DROP_VERBS = ("left", "dropped", "discarded", "put down")
GIVE_VERBS = ("gave", "handed", "passed")
SEQUENCE_OPENERS = ("Then", "After that", "Afterwards", "Following that")

# Pronouns for the task 11 cast ("After that she went to the kitchen.").
PRONOUN_OF_ACTOR = {"Mary": "she", "Sandra": "she", "Julie": "she", "John": "he", "Daniel": "he", "Bill": "he",
                    "Fred": "he", "Jeff": "he"}

# Task 14: the parts of the day in the order they happen, and how a sentence says each one.
TIMES_OF_DAY = ("yesterday", "morning", "afternoon", "evening")
TIME_PHRASES = {"yesterday": "yesterday", "morning": "this morning", "afternoon": "this afternoon",
                "evening": "this evening"}

# Task 15 and 16 animals: plural forms used in "Mice are afraid of wolves."
SPECIES_PLURALS = {"mouse": "mice", "cat": "cats", "sheep": "sheep", "wolf": "wolves", "frog": "frogs",
                   "lion": "lions", "swan": "swans", "rhino": "rhinos"}

# How a relation reads between its two arguments, and what it is the reverse of.
RELATION_PHRASES = {"north": "north of", "south": "south of", "east": "east of", "west": "west of",
                    "above": "above", "below": "below", "left": "to the left of", "right": "to the right of",
                    "bigger": "bigger than", "fits": "fits inside"}
OPPOSITE_RELATION = {"north": "south", "south": "north", "east": "west", "west": "east", "above": "below",
                     "below": "above", "left": "right", "right": "left", "bigger": "fits", "fits": "bigger"}
# Task 19 answers: one letter per step ("n,w").
DIRECTION_LETTERS = {"north": "n", "south": "s", "east": "e", "west": "w"}

NUMBER_WORDS = ("none", "one", "two", "three", "four", "five")

# Task 20: where a feeling sends an actor and what they pick up there. This is a rule of the bAbI
# world (not wording), so the checker uses it too.
MOTIVE_DESTINATION = {"hungry": "kitchen", "thirsty": "kitchen", "tired": "bedroom", "bored": "garden"}
MOTIVE_OBJECT = {"hungry": "apple", "thirsty": "milk", "tired": "pajamas", "bored": "football"}


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only ("the box" -> "The box")."""
    return text[:1].upper() + text[1:]


class SentenceWriter:
    """Writes events as statements and queries as questions, choosing synonyms with ``rng``.

    Args:
        rng: the generator's random source (synonym choices are part of the seeded output).
        take_there: probability that a taking sentence ends in "there" ("Mary got the milk there.").
        drop_there: probability that a dropping sentence ends in "there".
        lowercase_question_names: write names in lower case inside questions (tasks 15, 20 do).
    """

    def __init__(self, rng: random.Random, *, take_there: float = 1.0, drop_there: float = 0.2,
                 lowercase_question_names: bool = False):
        self.rng = rng
        self.take_there = take_there
        self.drop_there = drop_there
        self.lowercase_question_names = lowercase_question_names

    # --- statements ---

    def statement(self, event: ev.Event) -> str:
        """The sentence for one event, with its full stop."""
        rng = self.rng
        match event:
            case ev.Move(actors=actors, place=place, time=time, pronoun=pronoun):
                if pronoun:
                    who = "they" if len(actors) > 1 else PRONOUN_OF_ACTOR[actors[0]]
                    subject = f"{rng.choice(SEQUENCE_OPENERS)} {who}"
                else:
                    subject = " and ".join(actors)
                sentence = f"{subject} {rng.choice(MOVE_VERBS)} to the {place}"
                if time is not None:
                    phrase = TIME_PHRASES[time]
                    if rng.random() < 0.5:
                        sentence = f"{capitalize_first(phrase)} {sentence}"
                    else:
                        sentence = f"{sentence} {phrase}"
                return sentence + "."
            case ev.Take(actor=actor, obj=obj):
                there = " there" if rng.random() < self.take_there else ""
                return f"{actor} {rng.choice(TAKE_VERBS)} the {obj}{there}."
            case ev.Drop(actor=actor, obj=obj):
                there = " there" if rng.random() < self.drop_there else ""
                return f"{actor} {rng.choice(DROP_VERBS)} the {obj}{there}."
            case ev.Give(giver=giver, obj=obj, receiver=receiver):
                return f"{giver} {rng.choice(GIVE_VERBS)} the {obj} to {receiver}."
            case ev.IsIn(actor=actor, place=place):
                return f"{actor} is in the {place}."
            case ev.NotIn(actor=actor, place=place):
                negation = rng.choice(("not", "no longer"))
                return f"{actor} is {negation} in the {place}."
            case ev.EitherIn(actor=actor, places=(first, second)):
                return f"{actor} is either in the {first} or the {second}."
            case ev.Feels(actor=actor, motive=motive):
                return f"{actor} is {motive}."
            case ev.Relation(subject=subject, relation=relation, obj=obj):
                if relation in DIRECTION_LETTERS:  # places: "The office is north of the kitchen."
                    return f"The {subject} is {RELATION_PHRASES[relation]} the {obj}."
                if relation == "fits":
                    return f"The {subject} fits inside the {obj}."
                return f"The {subject} is {RELATION_PHRASES[relation]} the {obj}."
            case ev.IsA(name=name, species=species):
                return f"{name} is a {species}."
            case ev.SpeciesFears(species=species, feared=feared):
                return f"{capitalize_first(SPECIES_PLURALS[species])} are afraid of {SPECIES_PLURALS[feared]}."
            case ev.HasColor(name=name, color=color):
                return f"{name} is {color}."
        raise TypeError(f"no sentence for event {event!r}")

    # --- questions ---

    def _name(self, name: str) -> str:
        return name.lower() if self.lowercase_question_names else name

    def question(self, query: ev.Query) -> str:
        """The question sentence for one query, ending in "?"."""
        name = self._name
        match query:
            case ev.WhereIsActor(actor=actor):
                return f"Where is {name(actor)}?"
            case ev.WhereIsObject(obj=obj):
                return f"Where is the {obj}?"
            case ev.WhereWasObjectBefore(obj=obj, place=place):
                return f"Where was the {obj} before the {place}?"
            case ev.WhatIsInDirection(relation=relation, subject=None, obj=obj):
                return f"What is {RELATION_PHRASES[relation]} the {obj}?"
            case ev.WhatIsInDirection(relation=relation, subject=subject, obj=None):
                return f"What is the {subject} {RELATION_PHRASES[relation]}?"
            case ev.AboutGift(missing="obj", giver=giver, receiver=receiver):
                return f"What did {name(giver)} give to {name(receiver)}?"
            case ev.AboutGift(missing="giver", obj=obj, receiver=None):
                return f"Who gave the {obj}?"
            case ev.AboutGift(missing="giver", obj=obj, receiver=receiver):
                return f"Who gave the {obj} to {name(receiver)}?"
            case ev.AboutGift(missing="receiver", giver=None, obj=obj):
                return f"Who received the {obj}?"
            case ev.AboutGift(missing="receiver", giver=giver, obj=obj):
                return f"Who did {name(giver)} give the {obj} to?"
            case ev.IsActorIn(actor=actor, place=place):
                return f"Is {name(actor)} in the {place}?"
            case ev.HowManyCarried(actor=actor):
                return f"How many objects is {name(actor)} carrying?"
            case ev.WhatCarried(actor=actor):
                return f"What is {name(actor)} carrying?"
            case ev.WhereWasActorBefore(actor=actor, place=place):
                return f"Where was {name(actor)} before the {place}?"
            case ev.WhatAfraidOf(name=animal):
                return f"What is {name(animal)} afraid of?"
            case ev.WhatColor(name=animal):
                return f"What color is {name(animal)}?"
            case ev.IsRelated(subject=subject, relation="fits", obj=obj):
                return f"Does the {subject} fit in the {obj}?"
            case ev.IsRelated(subject=subject, relation=relation, obj=obj):
                return f"Is the {subject} {RELATION_PHRASES[relation]} the {obj}?"
            case ev.HowToGo(start=start, goal=goal):
                return f"How do you go from the {start} to the {goal}?"
            case ev.WhereWillGo(actor=actor):
                return f"Where will {name(actor)} go?"
            case ev.WhyWent(actor=actor, place=place):
                return f"Why did {name(actor)} go to the {place}?"
            case ev.WhyGot(actor=actor, obj=obj):
                return f"Why did {name(actor)} get the {obj}?"
        raise TypeError(f"no question for query {query!r}")
