"""The ``mdbc`` command: administration of mdbc_py sites, ranges and sandboxes.

Exit codes, the same for every command (``cli.common`` makes them so): 0
success; 1 the operation failed, or ``status``/``verify`` found a site
unhealthy or unreachable (the message says why and what to do); 2 bad
usage: an unknown option, range or site, or a configuration file that is
missing, unreadable or invalid (one line, no traceback).
"""

from __future__ import annotations

import click

from cli.admin_cmds import history, log_cmd, pause, promote, resume, status, switchover
from cli.agent_cmd import agent
from cli.demo_cmd import demo
from cli.init_cmd import init
from cli.proxy_cmd import proxy
from cli.repair_cmds import resync, verify
from cli.sandbox_cmd import sandbox
from mdbc_py import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mdbc")
def cli() -> None:
    """mdbc_py: keep a service's MariaDB databases alive across sites.

    \b
    Exit codes of every command:
      0  success (status: every site reachable and healthy)
      1  the operation failed, or status/verify found a site unhealthy or unreachable
      2  bad usage: unknown option, range or site; missing or invalid config file
    """


cli.add_command(sandbox)
cli.add_command(init)
for command in (
    status,
    promote,
    switchover,
    pause,
    resume,
    history,
    log_cmd,
    agent,
    proxy,
    resync,
    verify,
    demo,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mdbc")


if __name__ == "__main__":
    main()
