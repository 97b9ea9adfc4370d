"""memnet: memory-network question answering on Keras 3 / TensorFlow.

>>> import memnet
>>> qa = memnet.load("runs/qa1")          # a run folder written by `memnet train`
>>> qa.ask("Mary went to the kitchen.", "Where is Mary?").answer
'kitchen'
"""

__version__ = "0.1.0"


def load(run_dir):
    """Load a trained run folder for asking questions (see :class:`memnet.inference.QuestionAnswerer`)."""
    from memnet.inference import QuestionAnswerer

    return QuestionAnswerer.load(run_dir)
