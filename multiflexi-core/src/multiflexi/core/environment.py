"""A job's environment: layering, ``{VAR}`` macros, command rendering, masking.

Pure functions: the caller reads the layers from the database (and decrypts the
secrets); this module merges them, expands macros and renders the command line.

Precedence, lowest first (a later layer wins on value)::

    inherited (the allow-listed worker variables, see system_environment)
    < application   (manifest defaults)
    < company       (company environment)
    < credential:<name>  (bound credentials, in the order given)
    < runtemplate   (run-template configuration)
    < override      (one-time launch overrides)
    < system        (MULTIFLEXI_JOB_ID and the rest of the application contract)

A variable that is secret in any layer stays secret. A value of ``None`` declares
a variable without setting it: it keeps the value from below (and may mark it
secret); an empty string is a value and does override.

Macros: ``{NAME}`` or ``${NAME}`` with NAME matching ``[A-Z_][A-Z0-9_]*``, in the
values of every layer except inherited and system (those are taken literally),
and in the executable and the command-line template. See :func:`expand` for the
exact rules.
"""

from __future__ import annotations

import functools
import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from multiflexi.core import limits
from multiflexi.core.errors import FieldError, ValidationError
from multiflexi.core.redaction import REDACTED
from multiflexi.core.texts import msg

#: what a secret becomes in masked output: the faces' redaction marker
#: (:data:`multiflexi.core.redaction.REDACTED`, also importable from here)
PLACEHOLDER = REDACTED
#: the worker variables a job may inherit (plus every LC_* variable)
INHERITED_NAMES = frozenset({"PATH", "HOME", "LANG", "TZ", "TMPDIR"})

MACRO = re.compile(r"\$?\{([A-Z_][A-Z0-9_]*)\}")
_ONLY_MACROS = re.compile(r"(?:\$?\{[A-Z_][A-Z0-9_]*\})+")

_LAYERS = ("inherited", "application", "company", "credential", "runtemplate", "override")
_LITERAL_SOURCES = frozenset({"inherited", "system"})


def system_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The worker variables a job may see: PATH, HOME, LANG, LC_*, TZ and TMPDIR only.

    Never the database password, the master key, the Redis URL or anything else
    of the worker's own environment.
    """
    # the names first: the values of the others are never read (os.environ decodes each)
    return {
        name: environ[name] for name in environ if name in INHERITED_NAMES or name.startswith("LC_")
    }


def mask_pieces(secrets: Iterable[str]) -> tuple[str, ...]:
    """What masking looks for, longest first: each secret, and each line of a multi-line one."""
    pieces: set[str] = set()
    for value in secrets:
        pieces.add(value)
        pieces.update(line.strip("\r") for line in value.splitlines() if line.strip())
    pieces.discard("")
    return tuple(sorted(pieces, key=len, reverse=True))


def secret_runs(text: str, pieces: Sequence[str], covered: int = 0) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of ``text`` that belong to an occurrence of a piece.

    Overlapping and adjacent occurrences make one run. ``covered``: the first
    characters of ``text`` are already known to belong to a secret (one that began
    in text before this one, see the executor's line splitting).
    """
    spans: list[tuple[int, int]] = [(0, covered)] if covered > 0 else []
    for piece in pieces:
        size = len(piece)
        start = text.find(piece)
        while start != -1:
            spans.append((start, start + size))
            start = text.find(piece, start + 1)
    spans.sort()
    runs: list[tuple[int, int]] = []
    for start, stop in spans:
        if runs and start <= runs[-1][1]:
            if stop > runs[-1][1]:
                runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def mask_runs(text: str, runs: Iterable[tuple[int, int]]) -> str:
    """``text`` with each run (see :func:`secret_runs`) replaced by one PLACEHOLDER."""
    pieces: list[str] = []
    cursor = 0
    for start, stop in runs:
        if start >= len(text):
            break
        pieces.append(text[cursor:start])
        pieces.append(PLACEHOLDER)
        cursor = stop
    if not pieces:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Variable:
    """One input variable of a layer. ``value`` None declares it without setting it."""

    name: str
    value: str | None
    secret: bool = False

    def __repr__(self) -> str:
        shown = PLACEHOLDER if self.secret and self.value else repr(self.value)
        return f"Variable({self.name!r}, {shown}, secret={self.secret})"


@dataclass(frozen=True, slots=True)
class Entry:
    """One variable of an assembled environment and the layer its value came from."""

    name: str
    value: str
    secret: bool
    source: str

    def __repr__(self) -> str:
        shown = PLACEHOLDER if self.secret and self.value else repr(self.value)
        return f"Entry({self.name!r}, {shown}, secret={self.secret}, source={self.source!r})"


@dataclass(frozen=True, slots=True)
class JobContext:
    """What the system layer says about the job (ARCHITECTURE §5, the application contract).

    ``work_dir`` is the job's own work directory: exported as MULTIFLEXI_TMP, and a
    relative RESULT_FILE is resolved inside it. ``version`` defaults to the version
    of multiflexi-core.
    """

    job_id: int | None = None
    runtemplate_id: int | None = None
    runtemplate_name: str | None = None
    application_id: int | None = None
    application_name: str | None = None
    application_uuid: str | None = None
    company_id: int | None = None
    company_code: str | None = None
    company_name: str | None = None
    executor: str | None = None
    version: str | None = None
    work_dir: str | None = None

    def variables(self) -> dict[str, str]:
        """The system variables; each is always set (empty when unknown), so none can be spoofed."""

        def text(value: object) -> str:
            return "" if value is None else str(value)

        return {
            "MULTIFLEXI_JOB_ID": text(self.job_id),
            "MULTIFLEXI_RUNTEMPLATE_ID": text(self.runtemplate_id),
            "MULTIFLEXI_RUNTEMPLATE_NAME": text(self.runtemplate_name),
            "MULTIFLEXI_APPLICATION_ID": text(self.application_id),
            "MULTIFLEXI_APPLICATION_NAME": text(self.application_name),
            "MULTIFLEXI_APPLICATION_UUID": text(self.application_uuid),
            "MULTIFLEXI_COMPANY_ID": text(self.company_id),
            "MULTIFLEXI_COMPANY_CODE": text(self.company_code),
            "MULTIFLEXI_COMPANY_NAME": text(self.company_name),
            "MULTIFLEXI_EXECUTOR": text(self.executor),
            "MULTIFLEXI_VERSION": self.version if self.version is not None else _core_version(),
            "MULTIFLEXI_TMP": text(self.work_dir),
        }


@functools.cache
def _core_version() -> str:
    try:
        return version("multiflexi-core")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return ""


Layer = Iterable[Variable] | Mapping[str, str | None]


def _variables(layer: Layer) -> Iterator[Variable]:
    if isinstance(layer, Mapping):
        for name, value in layer.items():
            yield Variable(name, value)
    else:
        yield from layer


def _check(variable: Variable, source: str) -> None:
    name = variable.name
    if not isinstance(name, str) or not name or "=" in name or "\0" in name:
        # a layer's variable, not one input of a form: the line names the layer
        raise ValidationError(
            msg("invalid environment"),
            [FieldError(None, msg("{name!r} is not a usable variable name", name=name), source)],
        )
    if variable.value is not None and not isinstance(variable.value, str):
        raise ValidationError(
            msg("invalid environment"),
            [
                FieldError(
                    None,
                    msg(
                        "{name} must be a string, not {type}",
                        name=name,
                        type=type(variable.value).__name__,
                    ),
                    source,
                )
            ],
        )
    if variable.value is not None and "\0" in variable.value:
        raise ValidationError(
            msg("invalid environment"),
            [FieldError(None, msg("{name} contains a NUL byte", name=name), source)],
        )


@dataclass(slots=True)
class _Slot:
    value: str | None
    secret: bool
    source: str


def assemble(
    *,
    application: Layer = (),
    company: Layer = (),
    credentials: Mapping[str, Layer] | Iterable[tuple[str, Layer]] = (),
    runtemplate: Layer = (),
    overrides: Layer = (),
    context: JobContext | None = None,
    inherited: Mapping[str, str] | None = None,
) -> JobEnvironment:
    """Merge the layers in precedence order, expand macros, resolve RESULT_FILE.

    `credentials` maps a credential's name to its variables (a later credential wins
    over an earlier one). `inherited` is the allow-listed worker environment
    (:func:`system_environment`), lowest of all; `context` gives the system layer.
    Raises ValidationError for a name that cannot be an environment variable, a
    value with a NUL byte, and a value or an environment too large to start a
    process with (:mod:`multiflexi.core.limits`).
    """
    slots: dict[str, _Slot] = {}

    def merge(source: str, layer: Layer) -> None:
        for variable in _variables(layer):
            _check(variable, source)
            slot = slots.get(variable.name)
            if slot is None:
                slots[variable.name] = _Slot(variable.value, variable.secret, source)
                continue
            slot.secret = slot.secret or variable.secret
            if variable.value is not None:
                slot.value, slot.source = variable.value, source

    merge("inherited", dict(system_environment(inherited or {})))
    merge("application", application)
    merge("company", company)
    items = credentials.items() if isinstance(credentials, Mapping) else credentials
    for credential_name, layer in items:
        merge(f"credential:{credential_name}", layer)
    merge("runtemplate", runtemplate)
    merge("override", overrides)
    system = context.variables() if context is not None else {}
    merge("system", system)

    raw = {name: slot.value or "" for name, slot in slots.items()}
    literal = {name for name, slot in slots.items() if slot.source in _LITERAL_SOURCES}
    values, tainted = expand(raw, {n for n, s in slots.items() if s.secret}, literal)

    result_file = slots.get("RESULT_FILE")
    if context is not None and context.work_dir and result_file and result_file.source != "system":
        values["RESULT_FILE"] = _result_file(values["RESULT_FILE"], context)

    entries = tuple(
        Entry(name, values[name], slot.secret or name in tainted, slot.source)
        for name, slot in slots.items()
    )
    limits.check_environment(values.items(), "environment too large")
    return JobEnvironment(entries)


def _result_file(value: str, context: JobContext) -> str:
    """A relative RESULT_FILE lives in the job's work directory; absolute paths and URLs stay."""
    work_dir = context.work_dir
    assert work_dir
    if not value or "://" in value or posixpath.isabs(value):
        return value
    path = posixpath.normpath(posixpath.join(work_dir, value))
    if path == posixpath.normpath(work_dir):
        return posixpath.join(path, f"result_{context.job_id or 'job'}")
    return path


def expand(
    values: Mapping[str, str], secret: Iterable[str] = (), literal: Iterable[str] = ()
) -> tuple[dict[str, str], set[str]]:
    """Expand ``{NAME}`` / ``${NAME}`` macros in every value; return (values, tainted names).

    The rules:

    * a macro naming a variable that is not defined stays as it is;
    * a macro is replaced by the *expanded* value of the variable it names, and the
      inserted text is not scanned again;
    * variables that refer to each other in a cycle (or to themselves) keep those
      references literally, whatever order they are expanded in;
    * the names in `literal` keep their values as they are (but can be used by others);
    * a value into which a secret value was inserted is tainted (its name is
      returned), so the caller treats it as secret too.
    """
    secret_names = set(secret)
    fixed = set(literal)
    refs = {
        name: [] if name in fixed else [m for m in MACRO.findall(text) if m in values]
        for name, text in values.items()
    }
    result: dict[str, str] = {}
    tainted: set[str] = set()
    for component in _components(refs):
        members = set(component)
        for name in component:
            if name in fixed or not refs[name]:
                result[name] = values[name]
                continue
            used_secret = False

            def substitute(match: re.Match[str], members: set[str] = members) -> str:
                nonlocal used_secret
                target = match.group(1)
                if target not in values or target in members:
                    return match.group(0)
                if target in secret_names or target in tainted:
                    used_secret = True
                return result[target]

            result[name] = MACRO.sub(substitute, values[name])
            if used_secret:
                tainted.add(name)
    return result, tainted


def _components(refs: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components, each after every component it refers to (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in refs:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = refs[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


@dataclass(frozen=True)
class JobEnvironment:
    """An assembled environment: ordered entries, secrets known."""

    entries: tuple[Entry, ...]
    _by_name: dict[str, Entry] = field(init=False, repr=False, compare=False)
    _masks: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {e.name: e for e in self.entries})
        object.__setattr__(self, "_masks", mask_pieces(self.secrets()))

    def __repr__(self) -> str:
        return f"JobEnvironment({list(self.entries)!r})"

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Entry:
        return self._by_name[name]

    def as_dict(self) -> dict[str, str]:
        """Name -> value, for the job's process."""
        return {e.name: e.value for e in self.entries}

    def secrets(self) -> list[str]:
        """The non-empty secret values, for masking."""
        return [e.value for e in self.entries if e.secret and e.value]

    def redacted(self) -> dict[str, str]:
        """Name -> value with secrets replaced by PLACEHOLDER (and masked inside other values)."""
        return {
            e.name: (PLACEHOLDER if e.value else "") if e.secret else self.mask(e.value)
            for e in self.entries
        }

    def mask(self, text: str) -> str:
        """`text` with every character that belongs to a secret value replaced by PLACEHOLDER.

        Overlapping and adjacent occurrences become one placeholder. A multi-line
        secret is also masked line by line (output is masked one line at a time).
        """
        if not self._masks:
            return text
        return mask_runs(text, secret_runs(text, self._masks))

    def render_command(self, executable: str, template: str | None) -> list[str]:
        """The argv of the job: the executable and the template, split like a POSIX shell would.

        Splitting comes first and ``{NAME}`` / ``${NAME}`` is then substituted inside
        each word, so a value with spaces, quotes, ``;``, ``$(...)`` or newlines
        stays one argument and is never shell syntax. Quotes in the template only
        group words (macros are substituted inside quotes too). A word made only of
        macros whose values are all empty is dropped (an optional flag left unset);
        a word with other text keeps its text. Unknown macros stay as written.
        Refuses (ValidationError) a secret in the command line, an empty executable
        and unbalanced quotes.
        """
        program = _split("executable", executable)
        if not program:
            raise ValidationError(msg("invalid command line"), [("executable", msg("is empty"))])
        words = [*program, *_split("cmdparams", template, "command-line template")]
        argv: list[str] = []
        for position, word in enumerate(words):
            rendered = self._substitute(word)
            if rendered == "" and _ONLY_MACROS.fullmatch(word):
                if position == 0:
                    raise ValidationError(
                        msg("invalid command line"), [("executable", msg("is empty"))]
                    )
                continue
            argv.append(rendered)
        return argv

    def display_command(self, argv: list[str]) -> str:
        """The argv as one shell-quoted line with secrets masked, for job records and logs."""
        return self.mask(shlex.join(argv))

    def _substitute(self, word: str) -> str:
        def replace(match: re.Match[str]) -> str:
            entry = self._by_name.get(match.group(1))
            if entry is None:
                return match.group(0)
            if entry.secret:
                raise ValidationError(
                    msg("invalid command line"),
                    [
                        f"{entry.name} is secret and cannot be put on a command line; "
                        "the application reads it from its environment"
                    ],
                )
            return entry.value

        return MACRO.sub(replace, word)


#: what POSIX shlex splitting treats specially besides whitespace (quotes, the escape)
_SHELL_QUOTING = re.compile(r"['\"\\]")
#: the whitespace shlex splits on (str.split would split on more)
_SHELL_BLANKS = re.compile(r"[ \t\r\n]+")


def _split(field: str, text: str | None, label: str | None = None) -> list[str]:
    """The words of ``text``; a refusal is about the application's ``field`` (called ``label``)."""
    if not text:
        return []
    if _SHELL_QUOTING.search(text) is None:
        # no quotes and no escapes: shlex's words are the runs between blanks (the
        # executor renders every job's command line; shlex is slow pure Python)
        return [word for word in _SHELL_BLANKS.split(text) if word]
    try:
        return shlex.split(text, posix=True)
    except ValueError as error:
        problem = FieldError(field, str(error), label)
        raise ValidationError(msg("invalid command line"), [problem]) from None


__all__ = [
    "INHERITED_NAMES",
    "MACRO",
    "PLACEHOLDER",
    "REDACTED",
    "Entry",
    "JobContext",
    "JobEnvironment",
    "Variable",
    "assemble",
    "expand",
    "mask_pieces",
    "mask_runs",
    "secret_runs",
    "system_environment",
]
