"""fernet_interop.py - Python's cryptography.fernet side of tests/unit/test_fernet.c.

Usage: fernet_interop.py check
       fernet_interop.py encrypt KEY[,KEY...]   stdin plaintext -> stdout token (MultiFernet)
       fernet_interop.py decrypt KEY[,KEY...]   stdin token -> stdout plaintext (MultiFernet)
"""
import sys

try:
    from cryptography.fernet import Fernet, MultiFernet
except ImportError as e:
    sys.stderr.write("python cryptography module missing (%s): "
                     "install python3-cryptography for %s\n" % (e, sys.executable))
    sys.exit(3)


def keyring(arg):
    return MultiFernet([Fernet(k.strip().encode()) for k in arg.split(",")])


def main(argv):
    if len(argv) == 2 and argv[1] == "check":
        return 0
    if len(argv) != 3 or argv[1] not in ("encrypt", "decrypt"):
        sys.stderr.write(__doc__)
        return 2
    data = sys.stdin.buffer.read()
    f = keyring(argv[2])
    out = f.encrypt(data) if argv[1] == "encrypt" else f.decrypt(data.strip())
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
