"""Stand-in for the get-pip bootstrap script that ansible-test downloads from ci-files.testing.ansible.com.

ansible-test creates each sanity virtualenv without pip and runs its cached get-pip script with the
pinned pip version and options. This stand-in installs pip with the interpreter's own ensurepip and then
the pinned versions from the configured package index (PyPI), so `make sanity` needs no other download
host. The Makefile copies it into the ansible-test cache of build/ansible-test-home.
"""

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
    if "--no-setuptools" in sys.argv:
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"])


if __name__ == "__main__":
    main()
