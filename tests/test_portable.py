"""bmsa imports where POSIX's fcntl does not exist (Windows): run folders lock through a portable route (issue 24)."""
import subprocess, sys

def test_import_without_fcntl():
    code = ("import sys; sys.modules['fcntl'] = None\n"          # `import fcntl` now fails, as on Windows
            "from bmsa.all import *\n"
            "import bmsa.runs as runs; assert runs.fcntl is None\n"
            "print('ok')")
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().endswith('ok'), done.stderr[-2000:]
