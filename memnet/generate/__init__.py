"""memnet's bAbI task generator: unlimited, seeded data for all 20 bAbI tasks, offline.

A Python simulator of the bAbI world (people moving between rooms, carrying and handing over
objects, times of day, maps, animals, shapes and sizes) writes stories in the bAbI v1.2 file format
with the official file names. Every answer and its supporting facts are recomputed from the
story's structured events by an independent checker before anything is returned.

Public API:
    generate_task(task, n_questions, seed) -> list[str]    the lines of one file
    write_tasks(tasks, out_dir, n_train, n_test, seed)      write train and test files, atomically
    generate_stories(task, n_questions, seed)               the structured stories behind the lines
    check_story(lines) / check_example(statements, question) the independent checker
    file_vocabulary(lines)                                  the words of a file, answers included
"""

from memnet.generate.checker import GeneratedStoryError, answer_from_events, check_example, check_story
from memnet.generate.files import derive_seed, file_vocabulary, format_story, generate_stories, generate_task, write_tasks

__all__ = [
    "GeneratedStoryError",
    "answer_from_events",
    "check_example",
    "check_story",
    "derive_seed",
    "file_vocabulary",
    "format_story",
    "generate_stories",
    "generate_task",
    "write_tasks",
]
