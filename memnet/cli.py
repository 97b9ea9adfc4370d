"""The ``memnet`` command line. Thin: it parses arguments, calls the library and prints.

User mistakes (a missing file, a bad task number, an unknown model, malformed data) end with one
line on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from memnet.benchmark import RESULTS_DIR
from memnet.errors import MemnetError

EXIT_USER_ERROR = 2


def _quiet_tensorflow() -> None:
    """Import TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) kept off the terminal.

    Those lines are written before TensorFlow reads any logging setting, so the only way to keep
    them out is to point file descriptor 2 elsewhere during the import. Import errors still raise.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # also hides "no CUDA driver" on CPU machines
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value}")
    return value


def parse_value(text: str):
    """A setting's value from the command line: ``"2"`` -> 2, ``"0.5"`` -> 0.5, ``"true"``/``"false"`` -> bool, else text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_setting(text: str) -> tuple[str, object]:
    """``"NAME=VALUE"`` -> ``(name, parse_value(value))``: a ``--set`` argument (an argparse type)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), parse_value(value.strip())


def build_parser() -> argparse.ArgumentParser:
    from memnet.models import MODELS

    parser = argparse.ArgumentParser(prog="memnet", description="Memory-network question answering on bAbI.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    schedule = argparse.ArgumentParser(add_help=False)  # shared by train and bench protocol
    schedule.add_argument("--epochs", type=_positive_int, help="epochs after linear start (default: the paper's, 100 per task, 60 joint)")
    schedule.add_argument(
        "--learning-rate", type=_positive_float,
        help="initial learning rate (default: the model's own; for memn2n also the linear-start rate)",
    )

    schedule.add_argument(
        "--set", dest="settings", type=parse_setting, action="append", default=[], metavar="NAME=VALUE",
        help="a model setting (an argument of the model class, e.g. question_in_memory=true for transformer); repeatable",
    )

    train = commands.add_parser("train", parents=[schedule], help="train a model and write a run folder")
    train.add_argument("--task", required=True, help="a task number, a comma-separated list, or 'all' (joint)")
    train.add_argument("--data-dir", help="folder of qaN_*_{train,test}.txt files (else $MEMNET_BABI_DIR, else the download)")
    train.add_argument("--model", default="memn2n", choices=sorted(MODELS), help="model to train (default: memn2n)")
    train.add_argument("--runs", type=_positive_int, default=1, help="repeat training R times, keep the lowest training error")
    train.add_argument("--seed", type=int, default=0, help="random seed of the first run (run r uses seed + r)")
    train.add_argument("--memory-size", type=_positive_int, default=50, help="memory slots: the most recent sentences kept")
    train.add_argument("--embedding-dim", type=_positive_int, help="embedding size d (default: 20 per task, 50 joint)")
    train.add_argument("--hops", type=_positive_int, help="number of hops K (default 3)")
    train.add_argument("--encoding", choices=["position", "bow"], help="sentence encoding (default position)")
    train.add_argument("--no-linear-start", action="store_true", help="skip the linear-start phase")
    train.add_argument("--out", required=True, help="run folder to write")
    train.add_argument("--overwrite", action="store_true", help="replace --out if it already holds a run")
    train.add_argument("--resume", action="store_true", help="continue an interrupted training of --out from its last complete epoch")
    train.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch metrics")
    train.add_argument("--mixed-precision", action="store_true", help="compute in float16 with float32 weights (GPUs)")
    train.add_argument("--xla", action=argparse.BooleanOptionalAction, default=True, help="compile the train step with XLA (default on)")
    train.add_argument("--strategy", choices=["default", "mirrored", "multiworker"], default="default",
                       help="tf.distribute strategy: mirrored = all GPUs of this machine, multiworker = machines in TF_CONFIG")

    evaluate = commands.add_parser("evaluate", help="per-task error of a trained run")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data-dir", help="bAbI folder (default: as for train)")
    evaluate.add_argument("--csv", help="where to write the table (default: RUN_DIR/evaluation.csv)")

    ask = commands.add_parser("ask", help="answer a question about a story with a trained run")
    ask.add_argument("run_dir")
    ask.add_argument("--story", required=True, help="the story text, or a file holding it (one sentence per line)")
    ask.add_argument("--question", required=True)
    ask.add_argument("--top", type=_positive_int, default=5, help="how many answers to list")
    ask.add_argument("--json", action="store_true", help="print one JSON object")

    generate = commands.add_parser("generate", help="write bAbI-style tasks from memnet's own generator")
    generate.add_argument("--task", default="all", help="a task number, a comma-separated list, or 'all'")
    generate.add_argument("--train", type=_positive_int, default=1000, help="questions per training file")
    generate.add_argument("--test", type=_positive_int, default=1000, help="questions per test file")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--out", required=True, help="folder to write qaN_<name>_{train,test}.txt into")

    bench = commands.add_parser("bench", help="benchmarks: the paper's protocols, training speed")
    bench_commands = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    protocol = bench_commands.add_parser("protocol", parents=[schedule], help=f"train and test on a protocol; write {RESULTS_DIR}/<model>-<protocol>.*")
    protocol.add_argument("protocol", choices=["1k-per-task", "1k-joint", "10k-per-task", "generated-1k-per-task"])
    protocol.add_argument("--data-root", default=_default_babi_root(), help="bAbI root holding en/ and en-10k/")
    protocol.add_argument("--model", default="memn2n", choices=sorted(MODELS))
    protocol.add_argument("--runs", type=_positive_int, default=10, help="runs per task, best by training error (paper: 10)")
    protocol.add_argument("--tasks", default="all", help="task numbers (default all)")
    protocol.add_argument("--seed", type=int, default=0)
    protocol.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run with the same arguments in --out: its finished tasks are kept",
    )
    protocol.add_argument("--out", default=RESULTS_DIR, help=f"folder of the results (default {RESULTS_DIR}; required with --set)")
    speed = bench_commands.add_parser("speed", help="memnet's training throughput against plain Keras, in one run")
    speed.add_argument("--data-dir", help="bAbI folder (default: as for train)")
    speed.add_argument("--task", type=_positive_int, default=1)
    speed.add_argument("--runs", type=_positive_int, default=10)
    speed.add_argument("--epochs", type=_positive_int, default=100, help="epochs after 20 of linear start (default: the paper's 100)")
    speed.add_argument("--baseline-epochs", type=_positive_int, default=3)
    speed.add_argument("--json", action="store_true", help="print one JSON object")
    speed.add_argument("--out", help="also write the JSON to this file")
    report = bench_commands.add_parser("report", help="rewrite the markdown tables and the README's results table")
    report.add_argument("--results", default=RESULTS_DIR)
    report.add_argument("--readme", default="README.md")

    download = commands.add_parser("download", help="download and verify the official bAbI archive")
    download.add_argument("--url", help="where to fetch tasks_1-20_v1-2.tar.gz (file:// works)")
    download.add_argument("--sha256", help="expected SHA-256 of the archive")
    download.add_argument("--cache-dir", help="base folder (default: $KERAS_HOME or ~/.keras)")
    return parser


def _model_settings(args) -> dict:
    settings = {}
    for name, value in args.settings:
        if name in settings:
            raise MemnetError(f"--set {name}: given twice")
        settings[name] = value
    return settings


def _default_babi_root() -> str | None:
    from memnet.data.sources import shared_babi_root

    candidate = shared_babi_root(Path.cwd())  # run from the project's own checkout
    return str(candidate) if candidate.is_dir() else None


def cmd_train(args) -> int:
    from memnet import catalogue

    tasks = catalogue.parse_task_selection(args.task)
    data_dir = _data_dir(args.data_dir)
    model_settings = {
        key: value
        for key, value in (("embedding_dim", args.embedding_dim), ("hops", args.hops), ("encoding", args.encoding))
        if value is not None
    }
    for name, value in _model_settings(args).items():
        if name in model_settings:
            raise MemnetError(f"--set {name}: also given by its own flag (--{name.replace('_', '-')})")
        model_settings[name] = value
    overrides = {"linear_start_epochs": 0} if args.no_linear_start else {}
    if not args.xla:
        overrides["jit_compile"] = False
    if args.learning_rate is not None:
        overrides["learning_rate"] = args.learning_rate
    from memnet import distribute

    distribute.set_precision(args.mixed_precision)

    def report(run, result):
        if not args.quiet:
            print(f"run {run + 1}/{args.runs} (seed {result.seed}): training error {result.train_error:.2f}%, "
                  f"validation error {result.valid_error:.2f}%", flush=True)

    with distribute.scope(args.strategy):
        metrics = _train(args, tasks, data_dir, model_settings, overrides, report)
    print(_metrics_table(metrics))
    print(f"mean test error {metrics['mean_test_error']:.2f}%, failed tasks: {metrics['failed_tasks'] or 'none'}; "
          f"{metrics['wall_seconds']:.0f} s; written to {args.out}")
    return 0


def _train(args, tasks, data_dir, model_settings, overrides, report):
    from memnet.experiment import train_experiment

    return train_experiment(
        tasks=tasks,
        data_dir=data_dir,
        out_dir=args.out,
        model=args.model,
        runs=args.runs,
        seed=args.seed,
        memory_size=args.memory_size,
        epochs=args.epochs,
        model_settings=model_settings,
        training_overrides=overrides,
        overwrite=args.overwrite,
        resume=args.resume,
        verbose=0 if args.quiet else 1,
        on_run_end=report,
        parallel=1 if args.strategy != "default" else 10,
    )


def _data_dir(data_dir):
    """The bAbI folder to use; without any, memnet's generated tasks, said in one line."""
    from memnet.data.sources import resolve_data_dir

    folder, note = resolve_data_dir(data_dir)
    if note:
        print(f"note: {note}", file=sys.stderr)
    return folder


def _metrics_table(metrics) -> str:
    import pandas as pd

    frame = pd.DataFrame.from_dict(metrics["per_task"], orient="index")
    frame.index.name = "task"
    return frame.to_string(float_format=lambda v: f"{v:.2f}")


def cmd_evaluate(args) -> int:
    from memnet.experiment import evaluate_run, write_csv_atomic

    frame = evaluate_run(args.run_dir, _data_dir(args.data_dir))
    csv_path = Path(args.csv) if args.csv else Path(args.run_dir) / "evaluation.csv"
    write_csv_atomic(frame, csv_path)
    print(frame.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"mean test error {frame['test_error'].mean():.2f}%; table written to {csv_path}")
    return 0


def _read_story(text: str) -> str:
    path = Path(text)
    if "\n" not in text and len(text) < 4096 and path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise MemnetError(f"{path}: the story file is not UTF-8 text") from None
    return text


def cmd_ask(args) -> int:
    from memnet.inference import QuestionAnswerer

    answerer = QuestionAnswerer.load(args.run_dir)
    reply = answerer.ask(_read_story(args.story), args.question, top_k=args.top)
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False))
        return 0
    print(f"answer: {reply.answer} (p={reply.probability:.3f})")
    if reply.alternatives:
        print("alternatives: " + ", ".join(f"{a} ({p:.3f})" for a, p in reply.alternatives))
    names = getattr(answerer.model, "attention_names", None) or [f"hop {k}" for k in range(1, len(reply.attention) + 1)]
    for name, weights in zip(names, reply.attention):
        print(f"{name}:")
        for sentence, weight in zip(reply.sentences, weights):
            print(f"  {weight:6.3f} {'#' * round(weight * 20):<20} {sentence}")
    return 0


def cmd_download(args) -> int:
    from memnet.data import sources

    root = sources.download_babi(url=args.url or sources.BABI_URL, sha256=args.sha256, cache_dir=args.cache_dir)
    print(f"bAbI extracted to {root} ({sources.verify_extracted(root)} files verified); "
          f"memnet finds {root / 'en'} from now on")
    return 0


def cmd_generate(args) -> int:
    from memnet import catalogue
    from memnet.generate import write_tasks

    paths = write_tasks(catalogue.parse_task_selection(args.task), args.out, args.train, args.test, args.seed)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


def cmd_bench(args) -> int:
    from memnet import benchmark

    if args.bench_command == "protocol":
        if not args.data_root:
            raise MemnetError("--data-root: give the bAbI root folder (the one holding en/ and en-10k/)")
        if args.settings and args.out == RESULTS_DIR:
            raise MemnetError(f"--set: give --out too ({RESULTS_DIR} holds the results of the default settings)")
        from memnet import catalogue

        def report(row):
            print(f"task {row['task']}: train {row['train_error']:.1f}% valid {row['valid_error']:.1f}% "
                  f"test {row['test_error']:.1f}% ({row['seconds']:.0f} s)", flush=True)

        csv_path = benchmark.run_protocol(
            args.protocol, args.data_root, model=args.model, runs=args.runs, epochs=args.epochs,
            learning_rate=args.learning_rate, tasks=catalogue.parse_task_selection(args.tasks), seed=args.seed,
            model_settings=_model_settings(args), out_dir=args.out,
            command="memnet " + " ".join(sys.argv[1:]), on_task_end=report, resume=args.resume,
        )
        print(Path(csv_path).with_suffix(".md").read_text(encoding="utf-8"))
    elif args.bench_command == "speed":
        result = benchmark.measure_speed(
            _data_dir(args.data_dir), task=args.task, runs=args.runs, epochs=args.epochs,
            baseline_epochs=args.baseline_epochs,
        )
        result["command"] = "memnet " + " ".join(sys.argv[1:])
        if args.out:
            from memnet.io import write_json_atomic

            write_json_atomic(args.out, result)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"memnet {result['memnet_examples_per_s']:.0f} examples/s, plain Keras "
                  f"{result['baseline_examples_per_s']:.0f} examples/s: {result['ratio']:.1f}x")
    else:
        for md_source in sorted(Path(args.results).glob("*.json")):
            info = json.loads(md_source.read_text(encoding="utf-8"))
            if "protocol" in info:
                benchmark.write_report(args.results, info["model"], info["protocol"])
        benchmark.update_readme(args.readme, args.results)
        print(f"updated {args.readme} and the tables in {args.results}")
    return 0


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "ask": cmd_ask,
    "generate": cmd_generate,
    "bench": cmd_bench,
    "download": cmd_download,
}


def main(argv=None) -> int:
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except MemnetError as error:
        print(f"memnet {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"memnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
