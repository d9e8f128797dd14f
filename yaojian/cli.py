"""The ``yaojian`` console command: Django's management commands under one name.

``yaojian import KIND FILE``, ``yaojian generate``, ``yaojian audit verify`` … are
management commands; ``yaojian`` is simply ``manage.py`` installed on the PATH.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaojian.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "yaojian"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
