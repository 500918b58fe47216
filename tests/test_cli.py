"""The `tinyrect` command: help, dispatch to subcommands, bad input, and the demo."""
import subprocess
import sys

import pytest

from tinyrect.commands import cli


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinyrect", *args], capture_output=True, text=True, timeout=240)


def test_python_dash_m_help_lists_every_subcommand():
    result = run("--help")
    assert result.returncode == 0
    for name in cli.SUBCOMMANDS:
        assert name in result.stdout


def test_unknown_subcommand_and_bad_flag_exit_2_with_a_message():
    result = run("nope")
    assert result.returncode == 2 and "invalid choice: 'nope'" in result.stderr
    result = run("demo", "--depth", "1")
    assert result.returncode == 2 and "--depth must be >= 2" in result.stdout


def test_demo_prints_the_gradcheck_and_the_per_layer_table():
    result = run("demo", "--depth", "4", "--width", "8", "--draws", "2")
    assert result.returncode == 0, result.stderr
    assert "verdict: correct" in result.stdout
    assert "log2 Var[y_l]/Var[y_1]" in result.stdout and "Xavier" in result.stdout


def test_main_without_a_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: tinyrect" in capsys.readouterr().out


@pytest.mark.parametrize("args", [("lesson", "1", "--out", "/dev/null/x"),
                                  ("lesson", "1", "--out", "/proc/tinyrect-x")])
def test_an_unwritable_out_is_refused_up_front_naming_the_flag(args):
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot write in {args[-1]}" in result.stderr and "give --out a folder" in result.stderr
    assert ".tmp" not in result.stderr      # never a temporary path the user did not choose


def test_writable_folder_creates_checks_and_names_the_fix(tmp_path):
    from tinyrect.serialization import UnwritableFolder, writable_folder

    made = writable_folder(tmp_path / "a" / "b")
    assert made.is_dir() and list(made.iterdir()) == []          # the probe file is gone
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnwritableFolder, match=r"file, not a folder.*give --report a folder"):
        writable_folder(tmp_path / "file" / "sub", "--report")


@pytest.mark.parametrize("out", ["/dev/null/x", "/proc/tinyrect-x/report"])
def test_reproduce_refuses_an_unwritable_out_before_any_work(out):
    result = run("reproduce", "--smoke", "--no-progress", "--out", out)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and ".tmp" not in result.stderr
    assert "give --out a folder you can write to" in result.stderr
