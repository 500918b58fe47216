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
