import sys

from tingbro.cli import main

sys.exit(main())
