"""Writes the teaching notebooks in this folder, with no outputs: ``python notebooks/build_notebooks.py``.

The notebooks are generated rather than edited by hand so that what is committed is exactly the
code and text below, never outputs from someone's session. ``tests/test_notebooks.py`` runs them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

PARAMETERS = '''\
# Parameters. The tests set MEMNET_NOTEBOOK_SMALL=1 to run this notebook in seconds;
# leave it unset for the real thing (a few minutes on a laptop CPU).
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow start-up
SMALL = os.environ.get("MEMNET_NOTEBOOK_SMALL", "0") == "1"
'''

FIND_DATA = '''\
from pathlib import Path

import memnet
from memnet.data.sources import resolve_data_dir

# The real bAbI v1.2 data if it is beside the repository (../shared) or named by $MEMNET_BABI_DIR,
# or fetched by `memnet download`; otherwise memnet's own generated bAbI-style tasks.
# The repository: the folder above this notebook's that holds benchmarks/ (run the notebooks from notebooks/).
repo = next((p for p in (Path.cwd(), *Path.cwd().parents) if (p / "benchmarks" / "results").is_dir()), Path.cwd())
beside_repo = repo.parent / "shared" / "babi" / "tasks_1-20_v1-2" / "en"
data_dir, note = resolve_data_dir(beside_repo if beside_repo.is_dir() else None)
print(note or f"real bAbI data: {data_dir}")
'''


def quick_start() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# memnet in five minutes\n\n"
            "Train an end-to-end memory network (MemN2N, Sukhbaatar et al. 2015) on bAbI task 1, "
            "evaluate it, ask it a question about a story of your own, and look at where each of its "
            "three hops looked in memory."
        ),
        new_code_cell(PARAMETERS),
        new_markdown_cell(
            "## 1. The data\n\n"
            "memnet uses the real bAbI tasks when it can find them. Without them (a fresh, offline "
            "machine) it says so in one line and uses its own generator, which writes bAbI-style "
            "tasks in the same file format."
        ),
        new_code_cell(FIND_DATA),
        new_code_cell(
            "from memnet.data import load_task\n\n"
            "splits = load_task(data_dir, 1)\n"
            "print(len(splits.train), 'training,', len(splits.valid), 'validation,', len(splits.test), 'test questions')\n"
            "example = splits.train[0]\n"
            "for sentence in example.story:\n"
            "    print('  ', ' '.join(sentence))\n"
            "print('Q:', ' '.join(example.question), '  A:', example.answer)"
        ),
        new_markdown_cell(
            "## 2. Train\n\n"
            "`train_experiment` loads the task, trains MemN2N with the paper's protocol (position "
            "encoding, temporal encoding, linear start, random noise; plain SGD) and writes a run "
            "folder: `model.keras`, `vocab.json`, `config.json`, `history.json`, `metrics.json`. "
            "The paper trains 10 runs per task and keeps the lowest training error (`runs=10`); one "
            "run is enough here. The small configuration only checks that everything works: its "
            "model is barely trained."
        ),
        new_code_cell(
            "import tempfile\n"
            "import time\n\n"
            "from memnet.experiment import train_experiment\n\n"
            "run_dir = Path(tempfile.mkdtemp(prefix='memnet-quick-start-')) / 'qa1'\n"
            "# the paper: 20 epochs of linear start, then 100; the small configuration: 1 + 3\n"
            "epochs, linear_start_epochs = (3, 1) if SMALL else (100, 20)\n\n"
            "start = time.perf_counter()\n"
            "metrics = train_experiment(\n"
            "    tasks=[1], data_dir=data_dir, out_dir=run_dir, runs=1, seed=0, epochs=epochs,\n"
            "    training_overrides={'linear_start_epochs': linear_start_epochs},\n"
            ")\n"
            "print(f'trained in {time.perf_counter() - start:.0f} s; run folder: {run_dir}')\n"
            "print(sorted(p.name for p in run_dir.iterdir()))"
        ),
        new_markdown_cell(
            "## 3. Evaluate\n\n"
            "`metrics.json` holds the error of the trained model on each split; `evaluate_run` "
            "recomputes it from the saved run folder (as `memnet evaluate` does)."
        ),
        new_code_cell(
            "from memnet.experiment import evaluate_run\n\n"
            "print('mean test error (%):', metrics['mean_test_error'])\n"
            "evaluate_run(run_dir, data_dir)"
        ),
        new_code_cell(
            "import json\n\n"
            "import pandas as pd\n\n"
            "history = json.loads((run_dir / 'history.json').read_text())['history']\n"
            "curve = pd.DataFrame({\n"
            "    'epoch': range(1, len(history['accuracy']) + 1),\n"
            "    'training error %': [100 * (1 - a) for a in history['accuracy']],\n"
            "    'validation error %': [100 * (1 - a) for a in history['val_accuracy']],\n"
            "    'phase': history['phase'],\n"
            "})\n"
            "curve.tail()"
        ),
        new_markdown_cell(
            "## 4. Ask\n\n"
            "`memnet.load` reads the run folder back (Keras safe mode: loading runs no code) and "
            "answers questions about new stories. Every word must be one the model saw in training."
        ),
        new_code_cell(
            "qa = memnet.load(run_dir)\n"
            "story = '''Mary moved to the bathroom.\n"
            "John went to the hallway.\n"
            "Mary travelled to the office.\n"
            "Daniel journeyed to the garden.'''\n"
            "reply = qa.ask(story, 'Where is Mary?')\n"
            "print('answer:', reply.answer, f'(p = {reply.probability:.2f})')\n"
            "print('alternatives:', [(a, round(p, 2)) for a, p in reply.alternatives])"
        ),
        new_markdown_cell(
            "## 5. Where did each hop look?\n\n"
            "`reply.attention` has one row per hop and one weight per story sentence: the softmax "
            "with which that hop read the memory. A trained model looks at the last sentence about "
            "Mary. The chart is drawn with Altair (installed with Streamlit, a memnet `dev` "
            "dependency)."
        ),
        new_code_cell(
            "import altair as alt\n\n"
            "attention = pd.DataFrame(\n"
            "    [\n"
            "        {'hop': f'hop {k + 1}', 'sentence': f'{i + 1}. {sentence}', 'weight': weight}\n"
            "        for k, row in enumerate(reply.attention)\n"
            "        for i, (sentence, weight) in enumerate(zip(reply.sentences, row))\n"
            "    ]\n"
            ")\n"
            "alt.Chart(attention, title='Attention over the story, per hop').mark_rect().encode(\n"
            "    x=alt.X('hop:N', title=None),\n"
            "    y=alt.Y('sentence:N', sort=None, title=None),\n"
            "    color=alt.Color('weight:Q', scale=alt.Scale(domain=[0, 1], scheme='blues')),\n"
            "    tooltip=['hop', 'sentence', alt.Tooltip('weight:Q', format='.2f')],\n"
            ").properties(width=240)"
        ),
        new_code_cell(
            "attention.pivot(index='sentence', columns='hop', values='weight').round(2)"
        ),
        new_markdown_cell(
            "## Next\n\n"
            "* `02_inside_a_memory_network.ipynb`: what position encoding, temporal encoding, linear "
            "start and random noise each do.\n"
            "* `03_memory_layers_in_your_model.ipynb`: memnet's memory layers in a Keras model of your own.\n"
            "* The same from the shell: `memnet train --task 1 --out runs/qa1`, then "
            "`memnet ask runs/qa1 --story \"...\" --question \"...\"`."
        ),
    ]
    return new_notebook(cells=cells, metadata=_metadata())


def inside() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# Inside a memory network\n\n"
            "MemN2N reads a story stored as a memory of sentence vectors. Four details of the paper "
            "make it work on bAbI: **position encoding** of the words in a sentence, **temporal "
            "encoding** of the order of the sentences, **linear start** and **random noise** during "
            "training. Each section below trains the model twice on one task, with and without "
            "one of them, and plots the validation error per epoch.\n\n"
            "These are small experiments (one run each, a shortened schedule), not the paper's "
            "protocol of 10 runs x 120 epochs: read them as illustrations, and expect the numbers "
            "to move with the seed. The last section shows the full results, from "
            "`benchmarks/results/`."
        ),
        new_code_cell(PARAMETERS),
        new_code_cell(FIND_DATA),
        new_markdown_cell(
            "## The experiment\n\n"
            "One MemN2N (d = 20, 3 hops, adjacent weight tying) trained with "
            "`memnet.training.train`: the same SGD, gradient clipping and learning-rate schedule "
            "as `memnet train`, on a shorter schedule. `MemN2N`'s arguments switch each trick on "
            "or off: `encoding='position' | 'bow'`, `temporal=True | False`, `time_noise=0.1 | 0`; "
            "linear start is a training setting, `linear_start_epochs`."
        ),
        new_code_cell(
            "import keras\n"
            "import numpy as np\n"
            "import pandas as pd\n\n"
            "from memnet.experiment import prepare_data\n"
            "from memnet.models import MemN2N\n"
            "from memnet.training import TrainingConfig, error_rate, train\n\n"
            "# main epochs and linear-start epochs (the paper: 100 and 20)\n"
            "EPOCHS, LINEAR_START = (2, 1) if SMALL else (40, 10)\n"
            "_data = {}\n\n\n"
            "def experiment(task, variant, *, linear_start_epochs=LINEAR_START, **model_settings):\n"
            "    \"\"\"Train one MemN2N on `task`; return its validation error per epoch and its test error.\"\"\"\n"
            "    if task not in _data:\n"
            "        _data[task] = prepare_data(data_dir, [task])\n"
            "    data = _data[task]\n"
            "    keras.utils.set_random_seed(0)  # the same initial weights and batches for every variant\n"
            "    model = MemN2N(vocabulary_size=len(data.vocab), memory_size=data.memory_size, embedding_dim=20,\n"
            "                   hops=3, seed=0, **model_settings)\n"
            "    # (small: no XLA, whose compilation would take longer than the training)\n"
            "    config = TrainingConfig(epochs=EPOCHS, linear_start_epochs=linear_start_epochs, decay_every=15,\n"
            "                            jit_compile=not SMALL)\n"
            "    history = train(model, data.train, data.valid, config, seed=0)\n"
            "    curve = pd.DataFrame({\n"
            "        'epoch': range(1, len(history['val_accuracy']) + 1),\n"
            "        'validation error %': [100 * (1 - a) for a in history['val_accuracy']],\n"
            "        'variant': variant,\n"
            "    })\n"
            "    summary = {'task': task, 'variant': variant, 'train error %': round(error_rate(model, data.train), 1),\n"
            "               'test error %': round(error_rate(model, data.test), 1)}\n"
            "    return curve, summary"
        ),
        new_code_cell(
            "import altair as alt\n\n"
            "summaries = []\n\n\n"
            "def compare(title, *runs):\n"
            "    \"\"\"Plot the validation curves of several experiments and record their final errors.\"\"\"\n"
            "    curves = pd.concat([curve for curve, _ in runs])\n"
            "    summaries.extend(summary for _, summary in runs)\n"
            "    display(pd.DataFrame([summary for _, summary in runs]).set_index('variant'))\n"
            "    return alt.Chart(curves, title=title).mark_line(point=True).encode(\n"
            "        x='epoch:Q', y=alt.Y('validation error %:Q', scale=alt.Scale(domain=[0, 100])), color='variant:N',\n"
            "    ).properties(width=420, height=220)"
        ),
        new_markdown_cell(
            "## 1. Position encoding vs bag of words\n\n"
            "A sentence becomes one vector: the sum of its word embeddings. As a plain sum (bag of "
            "words, BoW) *the kitchen is north of the garden* and *the garden is north of the "
            "kitchen* are the same vector. Position encoding (PE) weights each embedding dimension "
            "by the word's place in the sentence, `l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J)` "
            "(the form in the authors' code; the paper prints one about half this size, which trains "
            "worse with plain SGD), so word "
            "order survives the sum. Task 4 (two-argument relations) asks exactly such questions: "
            "*What is north of the kitchen?* and *What is the kitchen north of?* contain the same words."
        ),
        new_code_cell(
            "from memnet.layers import position_encoding\n\n"
            "# the weights for a 5-word sentence and d = 6: one row per word, one column per dimension\n"
            "weights = position_encoding(np.ones((1, 5), bool), 6)[0]\n"
            "pd.DataFrame(keras.ops.convert_to_numpy(weights), index=[f'word {j}' for j in range(1, 6)]).round(2)"
        ),
        new_code_cell(
            "compare(\n"
            "    'Task 4: position encoding vs bag of words',\n"
            "    experiment(4, 'position encoding', encoding='position'),\n"
            "    experiment(4, 'bag of words', encoding='bow'),\n"
            ")"
        ),
        new_markdown_cell(
            "## 2. Temporal encoding\n\n"
            "A memory of sentence vectors has no order: without help the model cannot tell *Mary "
            "went to the kitchen* from what Mary did after. Temporal encoding adds a learned vector "
            "per memory age (`T_A`, `T_C`; age 0 is the latest sentence) to every memory. Task 1 "
            "(*Where is Mary?* after several moves) needs the latest fact."
        ),
        new_code_cell(
            "compare(\n"
            "    'Task 1: with and without temporal encoding',\n"
            "    experiment(1, 'temporal encoding', temporal=True),\n"
            "    experiment(1, 'no temporal encoding', temporal=False),\n"
            ")"
        ),
        new_markdown_cell(
            "## 3. Linear start\n\n"
            "Early in training the memory softmax can lock onto wrong sentences and stay there. "
            "Linear start (LS) removes the softmax from the hops for the first epochs (the raw "
            "scores weight the memories), then puts it back; the paper reports that it helps the "
            "model avoid such poor local minima. In memnet the switch happens inside the compiled "
            "training step (`MemoryHop(linear=...)`). Task 2 needs two supporting facts, read by "
            "two different hops. The LS curve's first epochs are without the softmax."
        ),
        new_code_cell(
            "with_ls = experiment(2, 'linear start')\n"
            "compare(\n"
            "    'Task 2: with and without linear start',\n"
            "    with_ls,\n"
            "    experiment(2, 'no linear start', linear_start_epochs=0),\n"
            ")"
        ),
        new_markdown_cell(
            "## 4. Random noise\n\n"
            "Temporal encoding can overfit: the model learns the ages at which facts happen to "
            "appear in the training stories. Random noise (RN) inserts up to 10% empty memories at "
            "random places in time during training (`MemoryAge(noise=0.1)`), so that the ages move "
            "a little. Compare the training and test errors of the two runs below, as well as the "
            "curves."
        ),
        new_code_cell(
            "compare(\n"
            "    'Task 2: with and without random noise',\n"
            "    (with_ls[0].assign(variant='random noise'), {**with_ls[1], 'variant': 'random noise'}),  # the LS run above\n"
            "    experiment(2, 'no random noise', time_noise=0.0),\n"
            ")"
        ),
        new_code_cell(
            "# all the small experiments above, side by side\n"
            "pd.DataFrame(summaries)"
        ),
        new_markdown_cell(
            "## The full results\n\n"
            "`memnet bench protocol 1k-per-task` runs the paper's protocol on all 20 tasks (10 runs "
            "x 120 epochs per task, the best run kept) and commits the per-task table to "
            "`benchmarks/results/memn2n-1k-per-task.csv`. Beside it, the paper's figures from "
            "`memnet.benchmark.paper_results()`: the paper's per-task figures for this protocol are "
            "not in memnet's reference, so the per-task column is the paper's 1k **joint** model "
            "(the closest it gives), and the mean and failed-task count are the per-task protocol's."
        ),
        new_code_cell(
            "from memnet.benchmark import paper_results\n\n"
            "results = pd.read_csv(repo / 'benchmarks' / 'results' / 'memn2n-1k-per-task.csv', index_col='task')\n"
            "paper = paper_results()\n"
            "per_task_protocol = '1k-per-task' if 'per_task' in paper['1k-per-task'] else '1k-joint'\n"
            "table = results[['train_error', 'test_error']].rename(columns={\n"
            "    'train_error': 'memnet train %', 'test_error': 'memnet test %'})\n"
            "table[f'paper test % ({per_task_protocol})'] = paper[per_task_protocol]['per_task']\n"
            "table"
        ),
        new_code_cell(
            "failed = int((results['test_error'] > 5).sum())\n"
            "print(f\"memnet 1k per task: mean test error {results['test_error'].mean():.1f}%, {failed} failed tasks (> 5%)\")\n"
            "print(f\"paper  1k per task: mean test error {paper['1k-per-task']['mean']}%, {paper['1k-per-task']['failed']} failed tasks\")"
        ),
        new_code_cell(
            "long = table.reset_index().melt(id_vars='task', value_vars=[c for c in table.columns if 'test' in c],\n"
            "                                var_name='source', value_name='test error %')\n"
            "alt.Chart(long, title='Test error per bAbI task').mark_bar().encode(\n"
            "    x=alt.X('task:O'), xOffset='source:N', y='test error %:Q', color='source:N',\n"
            ").properties(width=560, height=220)"
        ),
    ]
    return new_notebook(cells=cells, metadata=_metadata())


def layers() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            "# memnet's memory layers in your own Keras model\n\n"
            "memnet's layers are ordinary Keras 3 layers: registered for serialization, written in "
            "`keras.ops`, mask-aware. This notebook uses them on a problem that is not bAbI, "
            "**associative recall**: the model is shown a few (key, value) pairs, then a key, and "
            "must answer that key's value. It builds one Keras model from\n\n"
            "* `SentenceEncoder`: each pair (and the query) as one vector;\n"
            "* `MemoryTransformer`: a transformer encoder over the memory slots;\n"
            "* `MemoryHop`: MemN2N's attention read;\n"
            "* `MemoryCell` (in a `keras.layers.RNN`), `ContentAddressing`, `MemoryRead`: a memory "
            "the model writes pair by pair, then reads by content;\n\n"
            "and shows `MemoryWrite`, the erase/add write inside such memories, on its own. Then it "
            "trains the model, saves it to `.keras` and loads it back in safe mode."
        ),
        new_code_cell(PARAMETERS),
        new_markdown_cell(
            "## The task, generated with NumPy\n\n"
            "Word ids: 0 is padding, keys are `1..KEYS`, values follow. Each example has `PAIRS` "
            "distinct keys with random values; the query is one of them."
        ),
        new_code_cell(
            "import numpy as np\n\n"
            "KEYS, VALUES, PAIRS = 16, 8, 6\n"
            "VOCAB = 1 + KEYS + VALUES\n"
            "N_TRAIN, N_TEST, EPOCHS = (512, 128, 2) if SMALL else (8000, 1000, 30)\n\n\n"
            "def make_recall(n, rng):\n"
            "    keys = np.stack([rng.choice(KEYS, PAIRS, replace=False) + 1 for _ in range(n)])  # [n, pairs]\n"
            "    values = rng.integers(0, VALUES, (n, PAIRS)) + 1 + KEYS\n"
            "    pairs = np.stack([keys, values], axis=-1).astype('int32')  # [n, pairs, 2]: a 'sentence' per pair\n"
            "    pick = rng.integers(0, PAIRS, n)\n"
            "    query = keys[np.arange(n), pick][:, None].astype('int32')  # [n, 1]\n"
            "    answer = (values[np.arange(n), pick] - 1 - KEYS).astype('int32')  # class 0..VALUES-1\n"
            "    return {'pairs': pairs, 'query': query}, answer\n\n\n"
            "rng = np.random.default_rng(0)\n"
            "x_train, y_train = make_recall(N_TRAIN, rng)\n"
            "x_test, y_test = make_recall(N_TEST, rng)\n"
            "print('pairs', x_train['pairs'][0].tolist(), ' query', x_train['query'][0].tolist(), ' answer', y_train[0])"
        ),
        new_markdown_cell(
            "## `MemoryWrite` on its own\n\n"
            "The write of a Neural Turing Machine: `M <- M * (1 - w e^T) + w a^T`. Here the address "
            "`w` points at slot 1, the erase vector wipes it, and the add vector is written there."
        ),
        new_code_cell(
            "import keras\n\n"
            "from memnet.layers import (ContentAddressing, MemoryCell, MemoryHop, MemoryRead, MemoryTransformer,\n"
            "                           MemoryWrite, SentenceEncoder)\n\n"
            "memory = np.ones((1, 3, 2), 'float32')\n"
            "written = MemoryWrite()(memory, np.array([[0.0, 1.0, 0.0]]), add=np.array([[4.0, 2.0]]), erase=np.ones((1, 2)))\n"
            "keras.ops.convert_to_numpy(written)[0]"
        ),
        new_markdown_cell(
            "## The model\n\n"
            "Two memories of the same pairs: one read by attention after a transformer layer has "
            "let the slots see each other, one written by a `MemoryCell` a pair at a time into 8 "
            "slots and read by cosine content addressing. The two reads and the query decide the "
            "answer."
        ),
        new_code_cell(
            "DIM, SLOTS = 32, 8\n"
            "keras.utils.set_random_seed(0)\n\n"
            "pairs = keras.Input((PAIRS, 2), dtype='int32', name='pairs')\n"
            "query_ids = keras.Input((1,), dtype='int32', name='query')\n"
            "encode = SentenceEncoder(vocabulary_size=VOCAB, embedding_dim=DIM, name='encode')  # shared by pairs and query\n"
            "memory = encode(pairs)  # [batch, pairs, DIM]\n"
            "query = encode(query_ids)  # [batch, DIM]\n\n"
            "# read-only memory: a transformer layer over the slots, then MemN2N's attention read\n"
            "context = MemoryTransformer(num_layers=1, num_heads=2, max_age=PAIRS, name='transformer')(memory)\n"
            "hop_read, hop_attention = MemoryHop(name='hop')(query, context, memory)\n\n"
            "# written memory: a MemoryCell writes each pair into SLOTS slots; then a content-addressed read\n"
            "_, state = keras.layers.RNN(MemoryCell(slots=SLOTS, width=DIM), return_state=True, name='write')(memory)\n"
            "slots = keras.layers.Reshape((SLOTS, DIM), name='slots')(state)\n"
            "address = ContentAddressing(similarity='cosine', learn_strength=True, name='address')(query, slots)\n"
            "slot_read = MemoryRead(name='read')(address, slots)\n\n"
            "hidden = keras.layers.Dense(64, activation='relu')(keras.layers.Concatenate()([query, hop_read, slot_read]))\n"
            "answer = keras.layers.Dense(VALUES, name='answer')(hidden)\n"
            "model = keras.Model([pairs, query_ids], answer, name='associative_recall')\n"
            "model.summary()"
        ),
        new_code_cell(
            "model.compile(optimizer=keras.optimizers.Adam(3e-3),\n"
            "              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])\n"
            "history = model.fit(x_train, y_train, batch_size=64, epochs=EPOCHS, validation_split=0.1, verbose=0)\n"
            "loss, accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
            "print(f'test accuracy {accuracy:.1%} (chance: {1 / VALUES:.1%})')"
        ),
        new_code_cell(
            "import altair as alt\n"
            "import pandas as pd\n\n"
            "curve = pd.DataFrame({'epoch': range(1, EPOCHS + 1), 'training': history.history['accuracy'],\n"
            "                      'validation': history.history['val_accuracy']}).melt('epoch', var_name='split', value_name='accuracy')\n"
            "alt.Chart(curve, title='Associative recall').mark_line(point=True).encode(\n"
            "    x='epoch:Q', y=alt.Y('accuracy:Q', scale=alt.Scale(domain=[0, 1])), color='split:N',\n"
            ").properties(width=420, height=200)"
        ),
        new_markdown_cell(
            "## Where the model looked\n\n"
            "The attention layers are part of the graph, so a second model over the same layers "
            "returns them: the hop's weight on each pair, and the read's weight on each written slot. "
            "Nothing forces the model to use both memories: where one read's weights are close to "
            "uniform, it answers from the other."
        ),
        new_code_cell(
            "inspect = keras.Model([pairs, query_ids], [answer, hop_attention, address])\n"
            "logits, hop_weights, slot_weights = (keras.ops.convert_to_numpy(t) for t in inspect({k: v[:1] for k, v in x_test.items()}))\n"
            "print('pairs (key, value):', x_test['pairs'][0].tolist(), ' query:', x_test['query'][0, 0])\n"
            "print('hop attention per pair:', hop_weights[0].round(2))\n"
            "print('read weights per slot: ', slot_weights[0].round(2))\n"
            "print('answer:', KEYS + 1 + logits[0].argmax(), ' true:', KEYS + 1 + y_test[0])"
        ),
        new_markdown_cell(
            "## Save, reload in safe mode, same predictions\n\n"
            "`safe_mode=True` refuses to run code from the file (no lambdas): memnet's layers load "
            "because they are registered Keras serializables."
        ),
        new_code_cell(
            "import tempfile\n"
            "from pathlib import Path\n\n"
            "path = Path(tempfile.mkdtemp(prefix='memnet-layers-')) / 'recall.keras'\n"
            "model.save(path)\n"
            "reloaded = keras.saving.load_model(path, safe_mode=True)\n"
            "before = model.predict(x_test, verbose=0)\n"
            "after = reloaded.predict(x_test, verbose=0)\n"
            "np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-5)\n"
            "assert (before.argmax(-1) == after.argmax(-1)).all()\n"
            "print(f'{path.name}: {path.stat().st_size // 1024} KiB; reloaded, identical predictions on', len(after), 'examples')"
        ),
    ]
    return new_notebook(cells=cells, metadata=_metadata())


def _metadata() -> dict:
    return {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }


NOTEBOOKS = {
    "01_quick_start.ipynb": quick_start,
    "02_inside_a_memory_network.ipynb": inside,
    "03_memory_layers_in_your_model.ipynb": layers,
}


def main() -> None:
    for name, build in NOTEBOOKS.items():
        notebook = build()
        for i, cell in enumerate(notebook.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating changes nothing
        nbformat.validate(notebook)
        nbformat.write(notebook, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
