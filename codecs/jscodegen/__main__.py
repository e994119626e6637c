import sys

from jscodegen.generate import main

sys.exit(main())
