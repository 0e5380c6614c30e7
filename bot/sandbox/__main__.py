import sys

from bot.sandbox.cli import main

sys.exit(main())
