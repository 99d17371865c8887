"""Environment assembly: precedence, secrets, macros, command rendering, masking."""

from __future__ import annotations

import pytest

from multiflexi.core.environment import (
    PLACEHOLDER,
    JobContext,
    Variable,
    assemble,
    expand,
    system_environment,
)
from multiflexi.core.errors import ValidationError

LAYERS = ["application", "company", "credentials", "runtemplate", "overrides"]


def layered(name: str, upto: int) -> dict:
    """Keyword arguments that set KEY in the first `upto` layers, each to its own label."""
    kwargs: dict = {}
    for layer in LAYERS[:upto]:
        if layer == "credentials":
            kwargs[layer] = {"bank": {name: layer}}
        else:
            kwargs[layer] = {name: layer}
    return kwargs


# --- precedence -------------------------------------------------------------------


@pytest.mark.parametrize("upto", range(1, len(LAYERS) + 1))
def test_each_layer_beats_the_ones_below(upto):
    env = assemble(**layered("KEY", upto))
    assert env.as_dict()["KEY"] == LAYERS[upto - 1]
    source = {"credentials": "credential:bank", "overrides": "override"}
    assert env["KEY"].source == source.get(LAYERS[upto - 1], LAYERS[upto - 1])


def test_system_variables_beat_everything_and_cannot_be_spoofed():
    env = assemble(
        overrides={"MULTIFLEXI_JOB_ID": "999", "MULTIFLEXI_COMPANY_ID": "7"},
        context=JobContext(job_id=42, company_code="acme", company_name="ACME s.r.o."),
    )
    values = env.as_dict()
    assert values["MULTIFLEXI_JOB_ID"] == "42"
    assert values["MULTIFLEXI_COMPANY_ID"] == ""  # unknown, but still the system's word
    assert values["MULTIFLEXI_COMPANY_CODE"] == "acme"
    assert values["MULTIFLEXI_COMPANY_NAME"] == "ACME s.r.o."
    assert env["MULTIFLEXI_JOB_ID"].source == "system"


def test_the_application_contract_variables_are_all_present():
    context = JobContext(
        job_id=1,
        runtemplate_id=2,
        runtemplate_name="nightly",
        application_id=3,
        application_name="probe",
        application_uuid="8e5c8b6a-0d2c-4b36-9f0b-5f0f3d1e4a11",
        company_id=4,
        company_code="acme",
        company_name="ACME",
        executor="Native",
        version="2.0.0",
        work_dir="/var/lib/multiflexi/jobs/1",
    )
    values = assemble(context=context).as_dict()
    assert values == {
        "MULTIFLEXI_JOB_ID": "1",
        "MULTIFLEXI_RUNTEMPLATE_ID": "2",
        "MULTIFLEXI_RUNTEMPLATE_NAME": "nightly",
        "MULTIFLEXI_APPLICATION_ID": "3",
        "MULTIFLEXI_APPLICATION_NAME": "probe",
        "MULTIFLEXI_APPLICATION_UUID": "8e5c8b6a-0d2c-4b36-9f0b-5f0f3d1e4a11",
        "MULTIFLEXI_COMPANY_ID": "4",
        "MULTIFLEXI_COMPANY_CODE": "acme",
        "MULTIFLEXI_COMPANY_NAME": "ACME",
        "MULTIFLEXI_EXECUTOR": "Native",
        "MULTIFLEXI_VERSION": "2.0.0",
        "MULTIFLEXI_TMP": "/var/lib/multiflexi/jobs/1",
    }


def test_a_later_credential_beats_an_earlier_one():
    env = assemble(credentials=[("first", {"K": "1"}), ("second", {"K": "2"})])
    assert env["K"].value == "2"
    assert env["K"].source == "credential:second"


def test_none_declares_without_overriding_and_empty_string_overrides():
    env = assemble(application={"A": "default", "B": "default"}, runtemplate={"A": None, "B": ""})
    assert env.as_dict() == {"A": "default", "B": ""}
    assert env["A"].source == "application"
    assert assemble(application={"C": None}).as_dict() == {"C": ""}


def test_entries_keep_the_order_of_first_definition():
    env = assemble(application={"B": "1", "A": "1"}, company={"C": "1", "B": "2"})
    assert [e.name for e in env] == ["B", "A", "C"]


# --- secrets ----------------------------------------------------------------------


def test_a_variable_secret_in_any_layer_stays_secret():
    env = assemble(
        application=[Variable("PASS", "default", secret=True)],
        runtemplate={"PASS": "override-value"},  # a plain layer cannot unmask it
        overrides=[Variable("TOKEN", "t0ken-value", secret=True)],
        company=[Variable("TOKEN", "company", secret=False)],
    )
    assert env["PASS"].secret and env["TOKEN"].secret
    assert env.secrets() == ["override-value", "t0ken-value"]
    assert env.redacted()["PASS"] == PLACEHOLDER
    assert "override-value" not in repr(env)
    assert "t0ken-value" not in repr(env["TOKEN"])


def test_empty_secrets_are_not_masks_and_show_empty():
    env = assemble(application=[Variable("PASS", "", secret=True), Variable("N", "x")])
    assert env.secrets() == []
    assert env.redacted() == {"PASS": "", "N": "x"}
    assert env.mask("xyz") == "xyz"


def test_redacted_masks_secrets_that_appear_inside_plain_values():
    env = assemble(
        credentials={"db": [Variable("DB_PASSWORD", "hunter2hunter2", secret=True)]},
        runtemplate={"NOTE": "the password is hunter2hunter2"},
    )
    assert env.redacted() == {"DB_PASSWORD": PLACEHOLDER, "NOTE": f"the password is {PLACEHOLDER}"}
    assert env.as_dict()["NOTE"] == "the password is hunter2hunter2"


def test_masking_overlapping_and_nested_secrets_leaves_no_fragment():
    env = assemble(
        overrides=[
            Variable("A", "abcdef", secret=True),
            Variable("B", "defghi", secret=True),
            Variable("C", "cde", secret=True),
            Variable("D", "xyz", secret=True),
        ]
    )
    assert env.mask("__abcdefghi__") == f"__{PLACEHOLDER}__"
    assert env.mask("cde then xyz and xyzxyz") == f"{PLACEHOLDER} then {PLACEHOLDER} and ***"
    assert env.mask("nothing secret") == "nothing secret"


def test_multi_line_secrets_are_masked_line_by_line():
    pem = "-----BEGIN KEY-----\nAAAAbbbbCCCCdddd\n-----END KEY-----\n"
    env = assemble(credentials={"ssh": [Variable("KEY", pem, secret=True)]})
    assert env.mask("read AAAAbbbbCCCCdddd from file") == f"read {PLACEHOLDER} from file"
    assert env.mask(f"key:\n{pem}") == f"key:\n{PLACEHOLDER}"
    assert env.mask("-----END KEY-----") == PLACEHOLDER


# --- macros -----------------------------------------------------------------------


def test_result_file_macro_with_the_job_id_lands_in_the_work_directory():
    env = assemble(
        application={"RESULT_FILE": "report_{MULTIFLEXI_JOB_ID}.json"},
        context=JobContext(job_id=42, work_dir="/var/lib/multiflexi/jobs/42"),
    )
    assert env["RESULT_FILE"].value == "/var/lib/multiflexi/jobs/42/report_42.json"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/srv/out/report.json", "/srv/out/report.json"),
        ("out/../report.json", "/w/7/report.json"),
        (".", "/w/7/result_7"),
        ("", ""),
        ("s3://bucket/report.json", "s3://bucket/report.json"),
    ],
)
def test_result_file_resolution(value, expected):
    env = assemble(
        runtemplate={"RESULT_FILE": value}, context=JobContext(job_id=7, work_dir="/w/7")
    )
    assert env["RESULT_FILE"].value == expected


def test_macros_use_the_fully_layered_values_and_both_spellings():
    env = assemble(
        application={"URL": "https://{HOST}:${PORT}/api", "HOST": "app.example", "PORT": "80"},
        runtemplate={"HOST": "erp.example.com", "PORT": "8443"},
    )
    assert env["URL"].value == "https://erp.example.com:8443/api"


def test_macros_resolve_through_chains_and_unknown_macros_stay():
    values, tainted = expand({"A": "{B}/a", "B": "{C}/b", "C": "c", "D": "{MISSING}{lower}{ C}"})
    assert values == {"A": "c/b/a", "B": "c/b", "C": "c", "D": "{MISSING}{lower}{ C}"}
    assert tainted == set()


def test_cycles_keep_their_references_whatever_the_order():
    forward, _ = expand({"A": "x{B}", "B": "y{A}", "C": "{A}!", "S": "{S}"})
    backward, _ = expand({"S": "{S}", "C": "{A}!", "B": "y{A}", "A": "x{B}"})
    assert forward == backward == {"A": "x{B}", "B": "y{A}", "C": "x{B}!", "S": "{S}"}


def test_inserted_text_is_not_scanned_again():
    env = assemble(application={"A": "{B}", "B": "literal {C}", "C": "not me"})
    assert env["A"].value == "literal not me"
    raw = assemble(overrides={"A": "{B}"}, runtemplate={"B": "{{C}}", "C": "c"})
    assert raw["A"].value == "{c}"


def test_system_and_inherited_values_are_taken_literally():
    env = assemble(
        application={"TEAM": "ops"},
        context=JobContext(company_name="{TEAM} ltd"),
        inherited={"HOME": "/home/{TEAM}"},
    )
    assert env["MULTIFLEXI_COMPANY_NAME"].value == "{TEAM} ltd"
    assert env["HOME"].value == "/home/{TEAM}"


def test_a_value_built_from_a_secret_becomes_secret():
    env = assemble(
        credentials={"api": [Variable("TOKEN", "tok-123456", secret=True)]},
        runtemplate={"URL": "https://h/?t={TOKEN}", "AUTH": "Bearer {URL}", "PLAIN": "{HOST}"},
    )
    assert env["URL"].value == "https://h/?t=tok-123456"
    assert env["URL"].secret and env["AUTH"].secret
    assert not env["PLAIN"].secret
    assert "tok-123456" not in str(env.redacted())


# --- command line -----------------------------------------------------------------

HOSTILE = [
    "a b c",
    "x; rm -rf /",
    "$(touch /tmp/pwned)",
    "`id`",
    'it\'s "quoted"',
    "line1\nline2",
    "--flag=1 --other",
    "&& echo hi |",
    "{NAME}",
    "*",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_never_add_or_split_arguments(value):
    env = assemble(runtemplate={"NAME": value, "COUNT": "3"})
    argv = env.render_command("/usr/bin/tool", "--name {NAME} -c {COUNT} --x=${NAME}")
    assert argv == ["/usr/bin/tool", "--name", value, "-c", "3", f"--x={value}"]


def test_the_template_is_split_like_a_shell_and_macros_are_filled_inside_words():
    env = assemble(
        application={"NUMBER": "5", "UNIT": "s", "DIR": "/data/my files"},
        context=JobContext(job_id=9),
    )
    argv = env.render_command(
        "sleep", "{NUMBER}{UNIT} 'two words' \"{DIR}/x\" --job={MULTIFLEXI_JOB_ID}"
    )
    assert argv == ["sleep", "5s", "two words", "/data/my files/x", "--job=9"]


def test_the_original_dollar_spelling_leaves_no_stray_dollar():
    env = assemble(application={"FILE_UPLOAD": "/tmp/in.csv"})
    assert env.render_command("multiflexi-probe", "${FILE_UPLOAD}") == [
        "multiflexi-probe",
        "/tmp/in.csv",
    ]


def test_command_lines_are_split_exactly_as_posix_shlex_splits_them():
    """Without quotes or escapes the split is a fast path; the words are shlex's all the same."""
    import random
    import shlex

    alphabet = ["a", "-", "=", "/", ".", "#", "*", ";", "$", "é", " ", "  ", "\t", "\n", "\r",
                "\x0b", "\x0c", "\xa0", "\u2003", "'", '"', "\\"]  # fmt: skip
    chance = random.Random(20261206)
    templates = ["", " ", "one", " lead and trail ", "a\tb\nc\rd", "x\x0by\xa0z", "#not-a-comment"]
    templates += ["".join(chance.choices(alphabet, k=chance.randint(1, 12))) for _ in range(3000)]
    env = assemble()
    for template in templates:
        try:
            expected = ["tool", *shlex.split(template)]
        except ValueError:
            with pytest.raises(ValidationError):
                env.render_command("tool", template)
            continue
        assert env.render_command("tool", template) == expected, repr(template)


def test_the_executable_is_split_and_may_contain_macros():
    env = assemble(application={"PY": "python3.11"})
    assert env.render_command("{PY} src/main.py", None) == ["python3.11", "src/main.py"]
    assert env.render_command("/opt/app/run", "") == ["/opt/app/run"]


def test_empty_values_drop_macro_only_words_but_keep_other_text():
    env = assemble(application={"VERBOSE": "", "OUT": "", "N": "1"})
    argv = env.render_command("tool", "{VERBOSE} --out={OUT} {VERBOSE}{OUT} '' {N} {UNKNOWN}")
    assert argv == ["tool", "--out=", "", "1", "{UNKNOWN}"]


@pytest.mark.parametrize(
    ("executable", "template", "words"),
    [
        ("tool", "--name 'unclosed", "command-line template: No closing quotation"),
        ("", "--x", "executable: is empty"),
        ("{NOTHING}", "--x", "executable: is empty"),
        ("tool", "--password {PASS}", "PASS is secret"),
        ("tool", "--url {URL}", "URL is secret"),
    ],
)
def test_bad_command_lines_are_refused_with_one_line(executable, template, words):
    env = assemble(
        application={"NOTHING": ""},
        credentials={"db": [Variable("PASS", "pw-value", secret=True)]},
        runtemplate={"URL": "db://u:{PASS}@h"},
    )
    with pytest.raises(ValidationError) as caught:
        env.render_command(executable, template)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "pw-value" not in str(caught.value)


def test_display_command_quotes_like_a_shell_and_masks():
    env = assemble(
        application={"NAME": "two words"},
        overrides=[Variable("TOKEN", "zz-secret-zz", secret=True)],
    )
    argv = [*env.render_command("tool", "{NAME}"), "zz-secret-zz"]
    assert env.display_command(argv) == f"tool 'two words' {PLACEHOLDER}"


# --- input checks and the worker environment --------------------------------------


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ({"": "x"}, "is not a usable variable name"),
        ({"A=B": "x"}, "is not a usable variable name"),
        ({"A": "x\0y"}, "contains a NUL byte"),
        ({"A": 5}, "must be a string"),
    ],
)
def test_unusable_variables_are_refused_naming_the_layer(layer, words):
    with pytest.raises(ValidationError) as caught:
        assemble(company=layer)
    assert "company: " in str(caught.value)
    assert words in str(caught.value)


def test_unusual_but_legal_names_from_real_manifests_are_kept():
    assert assemble(application={"BANKA+": "1"}).as_dict() == {"BANKA+": "1"}


def test_the_worker_environment_is_reduced_to_the_allow_list():
    worker = {
        "PATH": "/usr/bin",
        "HOME": "/var/lib/multiflexi",
        "LANG": "cs_CZ.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "TZ": "Europe/Prague",
        "TMPDIR": "/tmp",
        "DB_PASSWORD": "dbpw",
        "ENCRYPTION_MASTER_KEY": "k" * 40,
        "MULTIFLEXI_MASTER_KEY": "k" * 40,
        "REDIS_URL": "redis://:pw@localhost/0",
        "DATABASE_URL": "postgresql://u:p@h/db",
        "LD_PRELOAD": "/evil.so",
    }
    allowed = system_environment(worker)
    assert allowed == {
        "PATH": "/usr/bin",
        "HOME": "/var/lib/multiflexi",
        "LANG": "cs_CZ.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "TZ": "Europe/Prague",
        "TMPDIR": "/tmp",
    }
    env = assemble(inherited=worker, application={"HOME": "/srv/app"})
    values = env.as_dict()
    assert values["HOME"] == "/srv/app"  # any layer beats the inherited one
    assert values["PATH"] == "/usr/bin"
    for name in ("DB_PASSWORD", "ENCRYPTION_MASTER_KEY", "REDIS_URL", "DATABASE_URL"):
        assert name not in values
