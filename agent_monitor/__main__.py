import sys

from agent_monitor.cli import main

sys.exit(main())
