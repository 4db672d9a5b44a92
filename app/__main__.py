"""``python -m app`` is the ``adstudio`` command."""

from app.cli import main

main()
