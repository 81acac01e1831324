"""`cardgrader queue add|list|remove|move|pause|resume|clear|run`: trainings lined up to run one after another."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from cardgrader.commands.common import TerminalProgress, print_json, table
from cardgrader.commands.train import add_train_options, request_from_args


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("queue", parents=[common], help="line up trainings and run them one after another")
    actions = p.add_subparsers(dest="action", required=True, metavar="add|list|remove|move|pause|resume|clear|run")

    add = actions.add_parser("add", parents=[common], help="add a training to the end of the queue (prints its id)")
    add_train_options(add)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=queue_add)

    listing = actions.add_parser("list", parents=[common], help="the jobs in order, with their status")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=queue_list)

    remove = actions.add_parser("remove", parents=[common], help="take a job out of the queue")
    remove.add_argument("job", metavar="JOB", help="job id, unique id prefix, or name")
    remove.add_argument("--json", action="store_true")
    remove.set_defaults(handler=queue_remove)

    move = actions.add_parser("move", parents=[common], help="put a job at another place in the queue")
    move.add_argument("job", metavar="JOB", help="job id, unique id prefix, or name")
    move.add_argument("position", metavar="POSITION", type=int, help="1 = first, as `queue list` numbers the jobs")
    move.add_argument("--json", action="store_true")
    move.set_defaults(handler=queue_move)

    for name, paused, helptext in (("pause", True, "finish the job under way, then start no other"),
                                   ("resume", False, "let the queue start jobs again")):
        a = actions.add_parser(name, parents=[common], help=helptext)
        a.add_argument("--json", action="store_true")
        a.set_defaults(handler=lambda args, paused=paused: queue_pause(args, paused))

    clear = actions.add_parser("clear", parents=[common], help="forget finished, failed and cancelled jobs")
    clear.add_argument("--json", action="store_true")
    clear.set_defaults(handler=queue_clear)

    run = actions.add_parser("run", parents=[common], help="train the queued jobs in order; exits when the queue is "
                                                           "empty (Ctrl-C stops, the job under way stays resumable)")
    run.add_argument("--json", action="store_true", help="one JSON line per event (the runs' and job_started/job_ended)")
    run.set_defaults(handler=queue_run)


def _queue():
    from cardgrader.training.job_queue import JobQueue

    return JobQueue()


def queue_add(args: argparse.Namespace) -> int:
    request = request_from_args(args)
    job_queue = _queue()
    job = job_queue.add(request, name=args.name)
    position = [j.id for j in job_queue.jobs()].index(job.id) + 1
    if args.json:
        print_json(job.to_json(position))
    else:
        print(job.id)
        print(f"Queued '{job.name}' at position {position}; `cardgrader queue run` trains the queue.", file=sys.stderr)
    return 0


def queue_list(args: argparse.Namespace) -> int:
    job_queue = _queue()
    jobs = job_queue.jobs()
    if args.json:
        print_json([j.to_json(i + 1) for i, j in enumerate(jobs)])
        return 0
    if not jobs:
        print("The queue is empty. Add a training with `cardgrader queue add --preset NAME --data DIR`.")
        return 0
    runner = job_queue.runner()
    rows = [(i + 1, j.id, j.name, _shown_status(j, runner), j.request["config"].get("task"),
             j.request["config"].get("arch"), j.request["config"].get("epochs"), j.run, j.error)
            for i, j in enumerate(jobs)]
    print(table(rows, ["#", "JOB", "NAME", "STATUS", "TASK", "ARCH", "EPOCHS", "RUN", "ERROR"]))
    if job_queue.paused:
        print("The queue is paused: `cardgrader queue resume` lets it start jobs again.")
    return 0


def _shown_status(job, runner) -> str:
    if job.status == "running" and runner is None:
        return "interrupted (resumes on the next `queue run`)"
    return job.status


def queue_remove(args: argparse.Namespace) -> int:
    job = _queue().remove(args.job)
    if args.json:
        print_json(job.to_json())
    else:
        print(f"Removed job {job.id} ('{job.name}') from the queue.")
    return 0


def queue_move(args: argparse.Namespace) -> int:
    job_queue = _queue()
    job = job_queue.move(args.job, args.position)
    if args.json:
        print_json([j.to_json(i + 1) for i, j in enumerate(job_queue.jobs())])
    else:
        print(f"Job {job.id} ('{job.name}') is now at position {args.position}.")
    return 0


def queue_pause(args: argparse.Namespace, paused: bool) -> int:
    _queue().set_paused(paused)
    if args.json:
        print_json({"paused": paused})
    else:
        print("The queue is paused: the job under way finishes, no other starts." if paused
              else "The queue starts jobs again (`cardgrader queue run` if no runner is working on it).")
    return 0


def queue_clear(args: argparse.Namespace) -> int:
    removed = _queue().clear_done()
    if args.json:
        print_json({"removed": removed})
    else:
        print(f"Forgot {removed} finished, failed or cancelled job{'s' if removed != 1 else ''}.")
    return 0


def queue_run(args: argparse.Namespace) -> int:
    from cardgrader.training.engine import Engine
    from cardgrader.training.job_queue import run_queue

    job_queue = _queue()
    if job_queue.paused:
        print("The queue is paused; `cardgrader queue resume` first.", file=sys.stderr)
        return 0
    stop = threading.Event()
    display = [None]

    def on_event(event: dict) -> None:
        if args.json:
            print_json(event)
        elif event["type"] == "job_started":
            display[0] = TerminalProgress()
            print(f"Job {event['job']} '{event['name']}'" + (f": resuming run {event['run']}" if event.get("run")
                                                              else ": starting"), file=sys.stderr)
        elif event["type"] == "job_ended":
            error = f": {event['error']}" if event.get("error") else ""
            print(f"Job {event['job']} '{event['name']}' {event['status']}{error}", file=sys.stderr)
        elif display[0] is not None:
            display[0].show(event)

    def on_interrupt(_signum, _frame) -> None:
        if not stop.is_set():
            stop.set()
            print("Stopping… (the job under way stays resumable and first in the queue)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt) if threading.current_thread() is threading.main_thread() else None
    engine = Engine()
    started = time.time()
    try:
        counts = run_queue(engine, job_queue, on_event=on_event, stop=stop)
    finally:
        engine.shutdown()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "nothing to train"
    if not args.json:
        print(f"Queue done in {time.time() - started:.0f} s: {summary}.", file=sys.stderr)
    if stop.is_set():
        return 130
    return 1 if counts["failed"] else 0
