"""moto, patched where it differs from AWS or where it costs the offline stack time; each
patch is set and put back with unittest.mock's patch.object, as moto's mock_aws does, and
pinned by a test that fails when moto changes underneath it
(tests/unit/test_offline_moto_patches.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from mlwf.offline.validation_errors import HIDDEN, validation_errors


class Endings:
    """Wakes whoever waits for executions as soon as one ends, instead of a polling grid."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()  # per waiting thread: the count it last returned at

    def ended(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Return once an execution has ended since this thread's last wait, or after
        `timeout` seconds. An end between two waits is never missed: it is counted."""
        with self._changed:
            self._changed.wait_for(lambda: self._count != getattr(self._seen, "count", 0), timeout)
            self._seen.count = self._count


MAX_EXECUTION_INPUT_BYTES = 262144
TOO_LONG_INPUT = validation_errors(
    [
        (
            "input",
            f"Member must have length less than or equal to {MAX_EXECUTION_INPUT_BYTES}",
            HIDDEN,
        )
    ]
)


@contextmanager
def s3_url_table_loaded_once() -> Iterator[None]:
    """moto's S3 reloads its URL module twice per request, to follow changes of its
    environment variables (custom endpoints), which do not change while a stack runs.
    The reload reads files, and each read lets go of the GIL: with 4 executions in flight
    the serializer's 4 ms S3 read took 27 ms, and held its function meanwhile. Loaded once
    when the stack starts, moto routes every request exactly as it would have."""
    from importlib import reload

    import moto.s3.models
    import moto.s3.urls

    backend = moto.s3.models.S3Backend
    backend.__dict__["_url_module"]  # KeyError: moto changed; see the test
    loaded = reload(moto.s3.urls)
    with patch.object(backend, "_url_module", property(lambda self: loaded)):
        yield


@contextmanager
def moto_modules_listed_once() -> Iterator[None]:
    """moto's server looks each request's host up among its service modules by listing its
    package folder and testing every entry with isdir: ~150 system calls a request, on every
    call a function makes. An S3 GetObject over HTTP cost the stack process 3.1 ms of CPU
    with them, 1.25 ms without. The installed moto does not change while a stack runs:
    listed once."""
    import moto.backends

    original = moto.backends.__dict__["list_of_moto_modules"]  # KeyError: see the test
    listed = tuple(original())
    with patch.object(moto.backends, "list_of_moto_modules", lambda: iter(listed)):
        yield


@contextmanager
def asl_parses_apart() -> Iterator[None]:
    """Each parse of a definition with a QueryLanguage scope stack of its own.

    moto's ASL Preprocessor keeps that stack in a class attribute: one list for every parse
    in the process. Each execution parses its definition in its own thread, so executions
    that start together push and pop each other's scopes. Checking the list and then
    reading its top, a parse can find it emptied in between by another one: IndexError,
    and the execution failed before its first state (before execution_endings, it stayed
    RUNNING for ever). Seen twice in tens of thousands of benchmark executions; a test
    forces the interleaving.
    """
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    Preprocessor.__dict__["_query_language_per_scope"]  # KeyError: moto changed; see the test
    original_init = Preprocessor.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._query_language_per_scope = []

    with patch.object(Preprocessor, "__init__", init):
        yield


@contextmanager
def execution_endings(endings: Endings) -> Iterator[None]:
    """Each execution's end reported to `endings`; one whose interpreter thread dies ends
    FAILED with States.Runtime, as an internal error ends one in AWS.

    moto runs each execution in a thread and sets its final status as the thread's last
    step. An unexpected exception before that (such as the parser race asl_parses_apart
    removes) would leave the execution RUNNING for ever and its caller waiting. The
    exception's type and message become the execution's cause.

    At each end, moto's list of every thread its interpreter ever started (TMP_THREADS,
    appended to and never read) drops the finished ones: about half of the ~150 objects
    each execution left behind, which Python's full collections walk again and again.
    """
    from moto.stepfunctions.parser.api import ExecutionStatus, SyncExecutionStatus
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    original = ExecutionWorker.__dict__["_execution_logic"]  # KeyError: moto changed

    def execution_logic(worker: Any) -> None:
        try:
            original(worker)
        except Exception as exc:
            execution = getattr(worker._execution_communication, "execution", None)
            if execution is None or execution.exec_status != ExecutionStatus.RUNNING:
                raise
            # The whole traceback, for whoever diagnoses it; the cause keeps the gist.
            logging.getLogger(__name__).exception(
                "the offline interpreter failed in execution %s", execution.exec_arn
            )
            execution.error = "States.Runtime"
            execution.cause = f"the offline interpreter failed: {type(exc).__name__}: {exc}"
            execution.stop_date = datetime.now(UTC)
            execution.exec_status = ExecutionStatus.FAILED
            if hasattr(execution, "sync_execution_status"):  # StartSyncExecution's
                execution.sync_execution_status = SyncExecutionStatus.FAILED
        finally:
            # Not atomic: a thread appended meanwhile, or appended but not yet started, can
            # be dropped. Harmless while moto never reads the list (a test pins that).
            TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
            endings.ended()

    with patch.object(ExecutionWorker, "_execution_logic", execution_logic):
        yield


@contextmanager
def stops_as_aws() -> Iterator[None]:
    """StopExecution honoured at any moment of a RUNNING execution, as AWS honours it
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html):
    the execution ends ABORTED, with the caller's error and cause in its ExecutionAborted
    event, and StopExecution answers with the stopDate.

    moto differs in four ways, each patched here:
    - Its worker makes the execution's environment in its own thread, once it has parsed
      the definition, and its stop() uses that environment: a StopExecution right after
      StartExecution raised AttributeError (26 times in 30 back-to-back tries).
    - Until the interpreter has set the first state, the environment ignores a stop, and
      the execution ran to its end as if never stopped; a stop just after that ended it
      ABORTED with no ExecutionAborted event.
    - A Task still running at the stop ran on, and if it then failed (or the machine's
      TimeoutSeconds passed), that replaced the stop: the execution ended FAILED.
    - Its StopExecution drops the caller's error and cause and answers without the
      stopDate; DescribeExecution's stopDate was when the worker wound down, not the stop,
      and it answered neither the error nor the cause the caller gave.
    Its end step wrote the status before the error and cause (and the output after it), so
    a reader racing the end saw FAILED with no error: here the status is written last, and
    a description is made before or after the end's writes, never between them.
    An early stop is kept and applied as the program starts, before any state (the first
    of two early stops wins, as it does later); a stopped execution's own environment takes
    no error or timeout after the stop, and keeps the stop's date.
    """
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.responses import StepFunctionResponse

    # KeyError: moto changed; see tests/unit/test_offline_early_stop.py
    make_environment = ExecutionWorker.__dict__["_get_evaluation_environment"]
    worker_stop = ExecutionWorker.__dict__["stop"]
    set_stop = Environment.__dict__["set_stop"]
    set_error = Environment.__dict__["set_error"]
    set_timed_out = Environment.__dict__["set_timed_out"]
    run_program = Program.__dict__["_eval_body"]
    reflect = BaseExecutionWorkerCommunication.__dict__["_reflect_execution_status"]
    describe = Execution.__dict__["to_describe_output"]
    env_lock = threading.Lock()  # orders a worker's env being made against a stop
    # an execution's end written whole against a description of it (re-entrant: a hook on
    # the writes, such as a test's, may describe the execution from their own thread)
    end_lock = threading.RLock()

    def environment(worker: Any) -> Any:
        env = make_environment(worker)
        with env_lock:
            worker.env = env  # moto assigns it too, when this returns
            early = worker.__dict__.pop("offline_early_stop", None)
        if early is not None:
            env.set_stop(**early)
        return env

    def stop(worker: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        with env_lock:
            if worker.env is None:
                early = {"stop_date": stop_date, "error": error, "cause": cause}
                worker.__dict__.setdefault("offline_early_stop", early)
                return
        worker_stop(worker, stop_date=stop_date, error=error, cause=cause)

    def environment_stop(env: Any, stop_date: Any, cause: str | None, error: str | None) -> None:
        with env._state_mutex:  # an RLock: moto's set_stop takes it again
            # An execution's own environment (not a Map's or Parallel's frame) whose
            # program has not started: stopped as it starts.
            if not env.is_frame() and not env.__dict__.get("offline_started"):
                early = {"stop_date": stop_date, "cause": cause, "error": error}
                env.__dict__.setdefault("offline_early_stop", early)
                return
            set_stop(env, stop_date=stop_date, cause=cause, error=error)

    def stopped(env: Any) -> bool:
        return not env.is_frame() and isinstance(env._program_state, ProgramStopped)

    def environment_error(env: Any, error: Any) -> None:
        with env._state_mutex:
            if not stopped(env):  # stopped first: it ends ABORTED, as AWS ends it
                set_error(env, error)

    def environment_timed_out(env: Any) -> None:
        with env._state_mutex:
            if not stopped(env):
                set_timed_out(env)

    def program(component: Any, env: Any) -> None:
        if not env.is_frame():
            with env._state_mutex:
                env.offline_started = True
                early = env.__dict__.pop("offline_early_stop", None)
                if early is not None:
                    set_stop(env, **early)
        run_program(component, env)  # stopped: no state runs, and it ends ABORTED

    def reflect_status(communication: Any) -> None:
        # moto's step writes the status before the error and cause, and the output after
        # it: a DescribeExecution (or the EXPRESS wait) racing the end answered FAILED with
        # no error, or SUCCEEDED with a null output. Its writes are staged here and the
        # status goes last, so a reader who sees the end sees all of it; a description
        # waits for them all (else it could read RUNNING, then the error written next).
        execution = communication.execution
        staged = _Staged(execution)
        reflect(SimpleNamespace(execution=staged))
        state = execution.exec_worker.env.program_state()
        if isinstance(state, ProgramStopped):
            # DescribeExecution answers the caller's error and cause, as AWS does
            # (["ABORTED", "Manual", "probe"], measured in floci-io/floci#2734), and the
            # stop's date, as StopExecution answered it
            staged.writes.update(error=state.error, cause=state.cause)
            if state.stop_date is not None:
                staged.writes["stop_date"] = state.stop_date
        status = staged.writes.pop("exec_status")  # KeyError: moto changed
        with end_lock:
            for name, value in staged.writes.items():
                setattr(execution, name, value)
            execution.exec_status = status

    def described(execution: Any) -> Any:
        with end_lock:
            return describe(execution)

    def stop_execution(response: Any) -> Any:
        stop_date = datetime.now(UTC)
        execution = response.stepfunction_backend.describe_execution(
            response._get_param("executionArn")  # ExecutionDoesNotExist, as moto's own
        )
        error, cause = response._get_param("error"), response._get_param("cause")
        execution.stop(stop_date=stop_date, error=error, cause=cause)
        return ActionResult({"stopDate": execution.stop_date or stop_date})

    with (
        patch.object(ExecutionWorker, "_get_evaluation_environment", environment),
        patch.object(ExecutionWorker, "stop", stop),
        patch.object(Environment, "set_stop", environment_stop),
        patch.object(Environment, "set_error", environment_error),
        patch.object(Environment, "set_timed_out", environment_timed_out),
        patch.object(BaseExecutionWorkerCommunication, "_reflect_execution_status", reflect_status),
        patch.object(Execution, "to_describe_output", described),
        patch.object(Program, "_eval_body", program),
        patch.object(StepFunctionResponse, "stop_execution", stop_execution),
    ):
        yield


@contextmanager
def executions_started_as_aws() -> Iterator[None]:
    """A StartExecution without a name gets a UUID, as AWS names it
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html:
    "If you don't provide a name for the execution, Step Functions automatically generates
    a universally unique identifier (UUID) as the execution name"). moto's interpreter
    named every such execution "None", so the second one failed with
    ExecutionAlreadyExists (or, with the same input, answered the first one).

    And an input over 256 KiB is refused, as the API's length constraint on `input`
    (262144) and the quota ("256 KiB of data as a UTF-8 encoded string",
    https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html) say: a
    ValidationException in the words AWS gives a too long `name` (moto's
    NameTooLongException), without the value, which the API marks sensitive (inferred).
    moto started it. StartSyncExecution goes through here too (mlwf/offline/express.py).

    An input that is not JSON is refused with InvalidExecutionInput ("The provided JSON input
    data is not valid", API_StartExecution's errors), `Invalid State Machine Execution
    Input: '<the parser's words>'`: AWS's sentence, as ManageIQ/floe and moto's own older
    Step Functions word it, around Python's parser's words where AWS's are Jackson's. moto's
    interpreter refused it with an empty error code and Python's words alone.

    A name AWS refuses is refused: InvalidName for one with white space, brackets, wildcards,
    the special characters `" # % \\ ^ | ~ ` $ & , ; : /` or control characters, and the
    ValidationException above for one over 80 characters
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html,
    "A name must not contain"). moto's own backend checks names with these rules; its
    interpreter's StartExecution skipped the check and started `a/b` and `has space`."""
    import json
    import uuid

    from moto.stepfunctions.exceptions import InvalidExecutionInput, ValidationException
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    start = StepFunctionsParserBackend.__dict__["start_execution"]  # KeyError: moto changed

    def start_execution(
        backend: Any, state_machine_arn: str, name: Any = None, *args: Any, **kw: Any
    ) -> Any:
        given = args[0] if args else kw.get("execution_input")
        if given is not None and len(str(given).encode()) > MAX_EXECUTION_INPUT_BYTES:
            raise ValidationException(TOO_LONG_INPUT)
        if given is not None:
            try:
                json.loads(given, parse_constant=_not_json)  # NaN, Infinity: not JSON
            except ValueError as exc:
                raise InvalidExecutionInput(
                    f"Invalid State Machine Execution Input: '{exc}'"
                ) from None
        if name:
            backend._validate_name(name)  # AttributeError: moto changed; see the test
        return start(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kw)

    with patch.object(StepFunctionsParserBackend, "start_execution", start_execution):
        yield


def _not_json(constant: str) -> Any:
    """Python's JSON reader takes NaN and Infinity, which are not JSON (RFC 8259) and which
    Jackson, AWS's reader, refuses by default (inferred: AWS's answer is not recorded)."""
    raise ValueError(f"{constant} is not a JSON value")


class _Staged:
    """Reads through to `target`; keeps what is written, in `writes`, for the caller to
    apply in an order of its own."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "writes", {})

    def __getattr__(self, name: str) -> Any:
        writes = object.__getattribute__(self, "writes")
        if name in writes:
            return writes[name]
        return getattr(object.__getattribute__(self, "_target"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.writes[name] = value
