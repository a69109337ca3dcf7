import sys

from roostr.cli import main

sys.exit(main())
