#!/usr/bin/env python3
"""The shape rules of docs/design.md, checked on the sources (a CTest test):
  1. no function in lib/ or cli/ is longer than 80 lines (scripts/function_lengths.py);
  2. the file names of the folders etcd-pki writes (ca.pem, ca.crt, server.pem, -key.pem,
     etcd.conf.yml, MANIFEST, ...) are spelled in lib/layout.* only: other code asks the layout
     module. Comments and the CLI's help texts may name them.
Usage: check_code_shape.py [SOURCE_DIR]; exit 1 with one line per violation."""
import glob
import os
import re
import subprocess
import sys

LAYOUT_NAMES = re.compile(
    r'"[^"]*(ca\.pem|ca\.crt|ca-key\.pem|server\.pem|peer\.pem|-key\.pem|\.crt\b|etcd\.conf\.yml|'
    r'etcdctl\.env|MANIFEST|/ca/|clients/|\.etcd-pki)[^"]*"')
HELP_TEXT = re.compile(r'add_option|add_flag|add_subcommand|description\(|footer\(|"Writes ')
OWNERS = ('lib/layout.cpp', 'lib/layout.hpp')


def code_of(line):
    """The line without a // comment (strings are kept)."""
    out, quote = [], None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == '\\':
                out.append(line[i:i + 2])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in '"\'':
            quote = c
        elif line.startswith('//', i):
            break
        out.append(c)
        i += 1
    return ''.join(out)


def main(root):
    os.chdir(root)
    sources = sorted(glob.glob('lib/**/*.[ch]pp', recursive=True) + glob.glob('cli/*.[ch]pp'))
    bad = subprocess.run([sys.executable, 'scripts/function_lengths.py', '--max', '80', *sources],
                         capture_output=True, text=True).stdout.splitlines()
    for path in sources:
        if path in OWNERS:
            continue
        with open(path, encoding='utf-8') as f:
            for no, line in enumerate(f, 1):
                code = code_of(line)
                if LAYOUT_NAMES.search(code) and not (path.startswith('cli/') and HELP_TEXT.search(code)):
                    bad.append(f'{path}:{no}: a layout file name outside lib/layout.*: {line.strip()}')
    for line in bad:
        print(line)
    print(f'{len(sources)} files checked: {len(bad)} problem(s)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')))
