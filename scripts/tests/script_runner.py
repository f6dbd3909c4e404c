"""What the scripts' tests share: where the scripts are, and running one as a user would."""
import os
import subprocess
import sys

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(SCRIPTS)


def run_script(name, *args):
    """scripts/<name> under this Python, its output captured."""
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name), *args],
                          capture_output=True, text=True)
