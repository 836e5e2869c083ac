"""``python -m outreach.cli``: the same as the installed ``outreach`` command."""

from outreach.cli import main

main(prog_name="outreach")
